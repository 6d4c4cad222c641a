-- 0018 — claim_jobs returns each job's tenant as a trailing column, so a worker's job events
-- carry it (docs/OBSERVABILITY.md "Job events"). A new column in the result is a new return
-- type, which CREATE OR REPLACE cannot make: the claim functions are dropped here and created
-- again, with the column, by their canonical file (repeatable/20_jobs.sql), which runs after
-- this file in the same transaction, so no caller ever sees them missing.
--
-- The column is added last: a caller that names the columns it reads (the Swift worker, the
-- bench's pgbench script) or reads them by position keeps working unchanged (docs/QUEUE_ENGINE.md).
drop function claim_jobs(text, text[], int);
drop function _claim_tenants(text, queues, int);
drop function _claim(text, text[], int, boolean);
drop function _claim_ids(text, uuid[]);

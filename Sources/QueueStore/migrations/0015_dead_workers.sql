-- 0015 — dead workers: their jobs come back at once (issue 19, item 2).
--
-- rescue_stale_jobs (20_jobs.sql) now also sweeps workers whose registry row has been silent for
-- worker_silence_limit() (60_workers.sql): it hands their jobs back without charging an attempt
-- and marks the row 'dead' (in_flight 0), so it stops counting as a running, busy worker. A
-- worker that comes back registers again and is 'running'.
alter table workers drop constraint if exists workers_status_check;
alter table workers add constraint workers_status_check
  check (status in ('running', 'draining', 'stopped', 'dead'));

-- How many times a job was handed back free because its worker died. Only the first is free: a
-- job whose worker dies again is charged an attempt ('worker_lost'), so a job that kills every
-- worker that runs it still ends in the DLQ after max_attempts instead of looping. Constant
-- default: adding it does not rewrite the table.
alter table job_queue add column dead_worker_releases int not null default 0;

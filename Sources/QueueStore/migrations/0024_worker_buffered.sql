-- 0024 — the registry row says how many of a worker's jobs are claimed but not started: the
-- prefetch buffer (docs/WORKERS.md, "Claiming ahead"). Such a job is `processing` and locked by
-- its worker like a running one, so without this column nothing told an operator that a worker
-- holds 300 jobs it has not begun (they go back to pending within --prefetch-wait if no handler
-- slot frees up). The worker reports it with every registry heartbeat, next to in_flight.
alter table workers add column buffered int not null default 0;

-- worker_heartbeat gains an argument (buffered, default 0 so a worker of an older build that
-- sends two keeps working): a new signature, so the old one is dropped here and
-- repeatable/60_workers.sql creates the new one.
drop function if exists worker_heartbeat(text, int);

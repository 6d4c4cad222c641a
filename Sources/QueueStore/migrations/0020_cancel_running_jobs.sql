-- 0020 — cancelling a running job, short ids that tell jobs apart, and the link from a running
-- sql-handler job to its PostgreSQL backend (issue 18, items 5, 6 and 8). The functions that use
-- these columns live in their canonical files: repeatable/20_jobs.sql (cancel_running_job,
-- cancel_job, _finish_cancelled_jobs, fail_jobs, release_jobs, rescue_stale_jobs, find_job_ids)
-- and repeatable/60_workers.sql (worker_cancel_requests, record_handler_backends).

-- When an operator asked to stop the job while it ran (cancel_running_job). The job stays
-- 'processing' until its worker has stopped the handler and ended it 'cancelled' (operator); a
-- job rescued from a dead worker with this set is ended the same way, never run again.
alter table job_queue add column cancel_requested_at timestamptz;

-- The PostgreSQL backend (pg_backend_pid) serving the sql handler that runs this job, written by
-- the worker when the handler starts (record_handler_backends) and cleared whenever the job
-- stops being processed. Lets `job show` / `:job` join pg_stat_activity and pg_locks.
alter table job_queue add column handler_backend_pid int check (handler_backend_pid > 0);

-- The poll fallback of a worker that cannot LISTEN (behind a transaction pooler) asks every
-- second which of its jobs an operator wants stopped: a tiny index, as few jobs are ever in it.
create index job_queue_cancel_requested_idx on job_queue (locked_by)
  where status = 'processing' and cancel_requested_at is not null;

-- Screens print the random tail of a UUIDv7 (its first 12 hex digits are a millisecond clock, the
-- same for every job created in that millisecond), so a person types a tail back: `:job 9bc7bfa9`.
-- find_job_ids looks a tail up through this index (the last group of the text form, reversed, so
-- any suffix of up to 12 hex digits is a range scan). The id never changes, so updates stay HOT.
create index job_queue_id_tail_idx on job_queue ((reverse(right(id::text, 12))) collate "C");

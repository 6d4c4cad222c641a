-- 0031 — access paths for the job explorer's last slow indexed filters at size (issue 18; docs/JOBS.md
-- "How a search stays cheap", figures in docs/BENCHMARKS.md "Job explorer"): time (`age>`,
-- `since:`), `state:completed` and `state:scheduled`. Without them a first page walked the
-- primary key newest first through every newer row that does not match (1-2 s or the 5 s timeout
-- at 10 M rows).
--
-- - Time. Ids are UUIDv7: their first 48 bits are the milliseconds of the clock when the id was
--   drawn, and created_at is the enqueue transaction's start, so for a job enqueued the usual way
--   δ = created_at - the id's time is at most 1 ms and at least minus how long its transaction
--   had run. A time filter reads primary-key ranges (QueueStore/JobCreatedTime.swift) plus two
--   partial indexes: "late" jobs, δ between -1 min and -1 s (an enqueue transaction that ran over a
--   second before drawing the id: their ids reach up to a minute past created_at), and "drift"
--   jobs, δ outside [-1 min, 1 ms] (created_at set by hand or by an import, an id not drawn by
--   uuid_v7(), a transaction of over a minute). So its answer is exactly created_at's, and an
--   ordinary enqueue adds no entry. The predicates are immutable built-ins only (the id's
--   milliseconds from its first 6 bytes), spelled the same way in JobCreatedTime.swift.
-- - (id) of completed jobs: a completion adds one entry (it is not a HOT update: every index
--   takes an entry for the new row version anyway).
-- - (id) of pending jobs never attempted whose run_at is later than created_at: enqueued for
--   later (or requeued from the dead letters). A due enqueue and a failed attempt add no entry
--   (retries are 0027's retrying index); a job leaves it when claimed or cancelled.
--
-- Like 0026 and 0027: built here only on an empty job_queue (a fresh install); on a table with
-- rows, `queuetop migrate` builds them after the install, CONCURRENTLY (QueueStore/OnlineIndexes.swift,
-- the same definitions, kept equal by OnlineIndexTests).
do $$
begin
  if not exists (select 1 from job_queue limit 1) then
    create index if not exists job_queue_time_late_id_idx on job_queue (id)
      where (created_at - to_timestamp(('x' || encode(substring(uuid_send(id) from 1 for 6), 'hex'))::bit(48)::bigint / 1000.0::float8)) between interval '-1 minute' and interval '-1 s';
    create index if not exists job_queue_time_drift_id_idx on job_queue (id)
      where (created_at - to_timestamp(('x' || encode(substring(uuid_send(id) from 1 for 6), 'hex'))::bit(48)::bigint / 1000.0::float8)) not between interval '-1 minute' and interval '1 ms';
    create index if not exists job_queue_completed_id_idx on job_queue (id) where status = 'completed';
    create index if not exists job_queue_scheduled_id_idx on job_queue (id) where status = 'pending' and attempt_count = 0 and run_at > created_at;
  end if;
end $$;

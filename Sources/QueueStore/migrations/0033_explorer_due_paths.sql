-- 0033 — access paths for the job explorer's due-time states at size (issue 18; docs/JOBS.md "How a
-- search stays cheap", figures in docs/BENCHMARKS.md "0033"): `state:pending` (due now) and
-- `state:retrying` (a failed job waiting for its next attempt). Both are status 'pending' told
-- apart by run_at against now(), which no index predicate can hold, so until now a first page
-- walked an id-ordered index through every job of the other side: `state:pending` the primary
-- key (the 5 s timeout at 10 M rows when the few due jobs are old among completed ones),
-- `state:retrying` 0027's retrying index (2.3 s when 1.4 M retries had come due and were not
-- claimed).
--
-- - (id) of "ready" jobs: pending, never attempted, run_at not later than created_at: a job
--   enqueued to run at once. Due since it was created, it stays so until claimed, so a newest
--   (or oldest) first read of it is a page of `state:pending` at once. The complement, within
--   never-attempted pending jobs, of 0031's scheduled index. Every due enqueue adds one entry; a
--   claim, a completion or a failure none (the new row version fails the predicate).
-- - ((attempt_count > 0)::int, run_at, id) of "deferred" pending jobs (a retry, or enqueued for
--   later): for each of the two kinds, its due ones and its waiting ones are each one range, so
--   the search counts either side cheaply (up to a cap) and reads the smaller one
--   (QueueStore/JobSearchDue.swift). A scheduled enqueue and a failed attempt add one entry; a
--   due enqueue, a claim or a completion none.
--
-- Like 0026, 0027 and 0031: built here only on an empty job_queue (a fresh install); on a table
-- with rows, `queuetop migrate` builds them after the install, CONCURRENTLY
-- (QueueStore/OnlineIndexes.swift, the same definitions, kept equal by OnlineIndexTests).
do $$
begin
  if not exists (select 1 from job_queue limit 1) then
    create index if not exists job_queue_ready_id_idx on job_queue (id)
      where status = 'pending' and attempt_count = 0 and run_at <= created_at;
    create index if not exists job_queue_deferred_run_at_idx on job_queue (((attempt_count > 0)::int), run_at, id)
      where status = 'pending' and (attempt_count > 0 or run_at > created_at);
  end if;
end $$;

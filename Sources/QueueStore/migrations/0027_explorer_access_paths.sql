-- 0027 — access paths for the job explorer's common filters at size (issue 18; docs/JOBS.md
-- "How a search stays cheap", figures in docs/BENCHMARKS.md "Job explorer"). A first page is the
-- newest 50 matches; without an index that yields a term's rows in id order, the search walks
-- the primary key newest first and reads every newer row that does not match: 1-2 s at 10 M rows
-- for a rare queue or type, or for running/dead jobs when the newest million jobs are pending.
--
-- - (queue, job_type, id): `queue:X type:Y` is one range, newest first. `queue:X` alone takes
--   the newest rows of each of X's types (a loose scan over the types, so none is missed) and
--   merges them; `type:Y` alone does the same over every queue (JobSearchStore).
-- - (id) of running jobs, of dead jobs, of cancelled jobs and of jobs waiting to retry: partial,
--   so a job takes an entry only when it is claimed, dies, is cancelled or fails an attempt — an
--   enqueue and a completion pay nothing.
--   The running one also holds any job with a worker (locked_by), so `worker:` is answered by
--   it however a job came to keep one.
--
-- Like 0026: built here only on an empty job_queue (a fresh install); on a table with rows,
-- `queuetop migrate` builds them after the install, CONCURRENTLY (QueueStore/OnlineIndexes.swift,
-- the same definitions, kept equal by OnlineIndexTests).
do $$
begin
  if not exists (select 1 from job_queue limit 1) then
    create index if not exists job_queue_queue_type_id_idx on job_queue (queue, job_type, id);
    create index if not exists job_queue_running_id_idx on job_queue (id)
      where status = 'processing' or locked_by is not null;
    create index if not exists job_queue_dead_id_idx on job_queue (id) where status in ('dead_letter', 'failed');
    create index if not exists job_queue_cancelled_id_idx on job_queue (id) where status = 'cancelled';
    create index if not exists job_queue_retrying_id_idx on job_queue (id) where status = 'pending' and attempt_count > 0;
  end if;
end $$;

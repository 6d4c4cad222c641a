-- 0006 — the worker hot path, measured (docs/BENCHMARKS.md has the before/after figures).
--
-- _claim (0001) said `UPDATE job_queue … FROM picked`. A LANGUAGE sql function is planned with
-- its arguments as parameters, so that join got a generic plan: it hashed or scanned job_queue
-- instead of probing the primary key for the picked ids, ~75-90 ms a call on 200 k rows
-- whatever the batch size. Here the picked ids become an array and the UPDATE probes the primary
-- key with `id = ANY(array)`, which plans the same whether the values are known or not: ~4-12 ms
-- for 100 jobs on the same data.
--
-- Every semantic of the old statement is kept: the candidates per queue are still the due
-- pending jobs (run_at and next_retry_at reached) in claim order (priority desc, run_at, id),
-- locked FOR UPDATE SKIP LOCKED so concurrent claimers take disjoint rows; the best max_jobs of
-- all queues are taken; the rows get status, started_at, heartbeat_at and locked_by as before.
-- Paused queues, concurrency limits and rate limits are decided by claim_jobs (unchanged),
-- which calls this per queue group. The rows come back in claim order (the old statement
-- returned them in join order, which happened to be that order), so the pool's FIFO work queue
-- runs the best jobs first.
create or replace function _claim(worker text, queue_names text[], max_jobs int)
returns table (id uuid, queue text, job_type text, payload jsonb, attempt_count int,
               max_attempts int, priority int, created_at timestamptz)
language sql volatile as $$
  with claimed as (
    update job_queue j
    set status = 'processing', started_at = now(), heartbeat_at = now(), locked_by = worker
    where j.id = any(array(
      select c.id
      from unnest(queue_names) as q(name)
      cross join lateral (
        select p.id, p.priority, p.run_at
        from job_queue p
        where p.queue = q.name and p.status = 'pending' and p.run_at <= now()
          and (p.next_retry_at is null or p.next_retry_at <= now())
        order by p.priority desc, p.run_at, p.id
        limit max_jobs
        for update skip locked
      ) c
      order by c.priority desc, c.run_at, c.id
      limit max_jobs))
    returning j.id, j.queue, j.job_type, j.payload, j.attempt_count, j.max_attempts, j.priority,
              j.created_at, j.run_at
  )
  select c.id, c.queue, c.job_type, c.payload, c.attempt_count, c.max_attempts, c.priority, c.created_at
  from claimed c
  order by c.priority desc, c.run_at, c.id
$$;

-- 0012 — complete_jobs, heartbeat_jobs and release_jobs find a worker's jobs by primary key.
--
-- Each takes the ids of jobs the calling worker holds and re-checks `status = 'processing'` and
-- `locked_by`. Written as plain conditions, `status = 'processing'` matches the partial index
-- job_queue_processing_idx, and the planner's choice then hangs on the statistics of `status`:
-- after an ANALYZE that saw few or no jobs in flight (a queue that was filled, or idle, when
-- autovacuum last looked) it expects ~1 processing row and reads the whole partial index —
-- every job in flight on every worker of every queue — to find the batch's rows. Measured with
-- 8,200 jobs in flight: complete_jobs of 200 ids read all 8,200 entries into a hash table,
-- 11.7 ms (EXPLAIN ANALYZE, triggers off), against 2.5 ms probing the primary key 200 times;
-- heartbeat_jobs of 200 ids 5.4 ms. So the cost of one worker's round trip grew with the fleet.
--
-- The status test is now `j.status = (select 'processing')`: the sub-select is evaluated once,
-- and, not being a constant, cannot prove the partial indexes' predicate, so the only index
-- left to find the rows is the primary key (an `= any(ids)` probe, or one probe per id in the
-- join with the per-job arrays). Same rows, same results; only the plan changes.
--
-- CREATE OR REPLACE with the same signatures keeps the grants; the DEFINER setting and its
-- search_path are reset by it, so they are re-applied at the end (0007's rule).

create or replace function complete_jobs(worker_id text, ids uuid[], processing_ms int[] default null,
                                         results jsonb[] default null)
returns int
language sql volatile as $$
  with done as (
    update job_queue j
    set status = 'completed', completed_at = now(), locked_by = null, heartbeat_at = null,
        processing_time_ms = greatest(0, coalesce(t.ms,
                               (extract(epoch from now() - j.started_at) * 1000)::int)),
        result = case when octet_length(t.res::text) > 65536
                      then jsonb_build_object('result_not_stored', 'larger than 64 KiB',
                                              'bytes', octet_length(t.res::text))
                      else t.res end
    from unnest($2, $3, $4) as t(id, ms, res)
    where j.id = t.id and j.status = (select 'processing') and j.locked_by = $1
    returning 1
  )
  select count(*)::int from done
$$;

create or replace function heartbeat_jobs(worker_id text, ids uuid[]) returns int
language sql volatile as $$
  with hb as (
    update job_queue j set heartbeat_at = now()
    where j.id = any($2) and j.status = (select 'processing') and j.locked_by = $1
    returning 1
  )
  select count(*)::int from hb
$$;

create or replace function release_jobs(worker_id text, ids uuid[]) returns int
language plpgsql volatile as $$
#variable_conflict use_column
declare v_queues text[]; n int;
begin
  with rel as (
    update job_queue j set status = 'pending', locked_by = null, heartbeat_at = null
    where j.id = any(release_jobs.ids) and j.status = (select 'processing')
      and j.locked_by = release_jobs.worker_id
    returning j.queue
  )
  select count(*), array_agg(distinct rel.queue) into n, v_queues from rel;
  perform pg_notify('queuetop_jobs', x.q) from unnest(v_queues) x(q);
  return n;
end $$;

do $$
declare f regprocedure;
begin
  for f in select p.oid::regprocedure from pg_proc p
           where p.pronamespace = current_schema()::regnamespace and p.prokind = 'f'
             and p.proname in ('complete_jobs', 'heartbeat_jobs', 'release_jobs') loop
    execute format('alter function %s security definer set search_path = %I, pg_temp', f, current_schema());
  end loop;
end $$;

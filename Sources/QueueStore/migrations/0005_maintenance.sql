-- 0005 — maintenance that runs by itself: retention of finished jobs and bulk operations.
--
-- Every worker process asks claim_maintenance('retention', worker_id) now and then; at most one
-- caller per interval wins, whichever host it is on, and runs the prune batches below, each its
-- own short transaction. The schedule lives in one row (maintenance_tasks), not in each worker's
-- configuration, so ten hosts agree on it and an operator changes it with one UPDATE.
--
-- Applies after 0001 (job_queue, queues, _check_batch_size, _uuid_v7_floor) and 0002
-- (bulk_operations), inside one transaction, by the migration runner (or `psql -1 -f`).

create table maintenance_tasks (
  task                   text primary key check (task ~ '^[a-z][a-z0-9_]*$'),
  enabled                boolean not null default true,
  -- A run starts at most once per interval_s across all workers.
  interval_s             int not null default 300 check (interval_s between 1 and 604800),
  -- Rows examined (jobs) or deleted (operations) per transaction: keeps every lock short.
  batch_size             int not null default 1000 check (batch_size between 1 and 100000),
  -- Finished bulk operations (lead migrations…) are kept this long after they finish.
  operations_retention_s int not null default 2592000 check (operations_retention_s between 0 and 315360000),
  -- The current or last run. A run that reports no progress for stale_after_s is presumed dead
  -- (its worker crashed) and the next due claim takes over.
  stale_after_s          int not null default 600 check (stale_after_s between 10 and 86400),
  last_started_at        timestamptz,
  last_progress_at       timestamptz,
  last_finished_at       timestamptz,
  last_run_by            text,
  last_jobs_pruned       bigint not null default 0,
  last_operations_pruned bigint not null default 0,
  total_jobs_pruned      bigint not null default 0,
  total_operations_pruned bigint not null default 0
);
insert into maintenance_tasks (task) values ('retention');

-- What claim_maintenance answers: whether this caller runs the task now, when to ask again, and
-- the run's parameters.
create type maintenance_claim as (
  claimed boolean, next_check_s double precision, batch_size int, operations_retention_s int
);

-- Takes the task's run when it is due: enabled, interval_s since the last start, and no other run
-- in progress (one that reported progress within stale_after_s). The conditional UPDATE is the
-- whole cross-process story: two callers racing both evaluate it, the second after the first
-- commits (READ COMMITTED re-checks the updated row), so exactly one wins per interval.
create function claim_maintenance(task text, worker_id text) returns maintenance_claim
language plpgsql volatile as $$
declare r maintenance_tasks;
begin
  if worker_id is null or worker_id = '' then
    raise exception 'worker_id is required' using errcode = '22023';
  end if;
  update maintenance_tasks m
  set last_started_at = now(), last_progress_at = now(), last_finished_at = null, last_run_by = worker_id,
      last_jobs_pruned = 0, last_operations_pruned = 0
  where m.task = claim_maintenance.task and m.enabled
    and (m.last_started_at is null or m.last_started_at <= now() - m.interval_s * interval '1 second')
    and (m.last_finished_at is not null or m.last_progress_at is null
         or m.last_progress_at <= now() - m.stale_after_s * interval '1 second')
  returning * into r;
  if found then
    return (true, r.interval_s::double precision, r.batch_size, r.operations_retention_s)::maintenance_claim;
  end if;
  select * into r from maintenance_tasks m where m.task = claim_maintenance.task;
  if not found then
    raise exception 'unknown maintenance task "%"', task using errcode = 'P0002',
      hint = 'Tasks: SELECT task FROM maintenance_tasks.';
  end if;
  -- Not due (or running elsewhere, or disabled): say when it could be due next.
  return (false,
          case when not r.enabled or r.last_started_at is null then r.interval_s::double precision
               else greatest(1, extract(epoch from r.last_started_at + r.interval_s * interval '1 second' - now()))
          end,
          r.batch_size, r.operations_retention_s)::maintenance_claim;
end $$;

-- The run's owner reports what one batch did (and, with finished, that the run is over).
-- Returns false when the run is no longer this worker's (presumed dead and taken over): stop then.
create function maintenance_progress(task text, worker_id text, jobs_pruned bigint,
                                     operations_pruned bigint, finished boolean default false)
returns boolean
language plpgsql volatile as $$
begin
  update maintenance_tasks m
  set last_progress_at = now(),
      last_finished_at = case when finished then now() else null end,
      last_jobs_pruned = m.last_jobs_pruned + greatest(coalesce(jobs_pruned, 0), 0),
      last_operations_pruned = m.last_operations_pruned + greatest(coalesce(operations_pruned, 0), 0),
      total_jobs_pruned = m.total_jobs_pruned + greatest(coalesce(jobs_pruned, 0), 0),
      total_operations_pruned = m.total_operations_pruned + greatest(coalesce(operations_pruned, 0), 0)
  where m.task = maintenance_progress.task and m.last_run_by = worker_id and m.last_finished_at is null;
  return found;
end $$;

-- One retention batch over job_queue: examines at most batch_size jobs in id order after
-- after_id (null = from the oldest) and deletes those completed or cancelled longer ago than
-- their queue's retention_s; their job_attempts rows go with them (on delete cascade).
-- Returns how many it deleted and the id to pass next time; next_after null = the walk is over.
--
-- Why a cursor: prune_completed_jobs (0001) restarts at the oldest id on every call, so old rows
-- it must keep (a long-retention queue, a DLQ backlog, pending jobs) are re-read by every batch.
-- Walking forward examines each row once per run: a run costs O(rows below the bound).
-- Only ids below the shortest retention's bound are walked (ids are time-ordered UUIDv7 and a
-- job finishes after it is created, so nothing above can be due). Rows locked by someone else
-- are skipped and picked up by the next run.
create function prune_jobs_batch(after_id uuid, batch_size int)
returns table (pruned int, next_after uuid)
language plpgsql volatile as $$
declare v_bound uuid; v_ids uuid[]; v_examined int; n int;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  select _uuid_v7_floor(now() - min(q.retention_s) * interval '1 second') into v_bound from queues q;
  v_ids := array(
    select j.id from job_queue j
    where j.id > coalesce(after_id, '00000000-0000-0000-0000-000000000000'::uuid) and j.id < v_bound
    order by j.id
    limit batch_size);
  v_examined := cardinality(v_ids);
  if v_examined = 0 then
    return query select 0, null::uuid;
    return;
  end if;
  with victims as (
    select j.id from job_queue j join queues q on q.name = j.queue
    where j.id = any(v_ids) and j.status in ('completed', 'cancelled')
      and coalesce(j.completed_at, j.created_at) < now() - q.retention_s * interval '1 second'
    for update of j skip locked
  )
  delete from job_queue j using victims v where j.id = v.id;
  get diagnostics n = row_count;
  return query select n, case when v_examined < batch_size then null::uuid else v_ids[v_examined] end;
end $$;

-- Deletes up to batch_size bulk operations that finished (completed, cancelled or failed) more
-- than older_than_s seconds ago. Active operations are never touched. Call until it returns 0.
create function prune_bulk_operations(older_than_s int, batch_size int) returns int
language plpgsql volatile as $$
declare n int;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  if older_than_s is null or older_than_s < 0 then
    raise exception 'older_than_s must be 0 or more, got %', coalesce(older_than_s::text, 'null')
      using errcode = '22023';
  end if;
  with victims as (
    select o.id from bulk_operations o
    where o.status in ('completed', 'cancelled', 'failed')
      and o.finished_at < now() - older_than_s * interval '1 second'
    order by o.finished_at
    limit prune_bulk_operations.batch_size  -- not bulk_operations.batch_size
    for update skip locked
  )
  delete from bulk_operations o using victims v where o.id = v.id;
  get diagnostics n = row_count;
  return n;
end $$;

-- Workers: registry, operator commands to workers, circuit-breaker state, and the maintenance
-- that runs by itself.
--
-- The worker pool (Sources/Workers) owns these functions. Commands reach workers through rows
-- they already read every second, not a command queue: "quiet" and "drain" are workers.status =
-- 'quiet' / 'draining' (the worker sees them on its next registry heartbeat), and "run now" (run_queue_now, 20_jobs.sql)
-- is a NOTIFY on queuetop_jobs plus a breaker reset. A worker that was disconnected when the
-- command was given still sees it when it comes back.
--
-- Maintenance: every worker process asks claim_maintenance('retention', worker_id) now and then;
-- at most one caller per interval wins, whichever host it is on, and runs the prune batches
-- (prune_jobs_batch, prune_bulk_operations), each its own short transaction. The schedule lives
-- in one row (maintenance_tasks), not in each worker's configuration, so ten hosts agree on it
-- and an operator changes it with one UPDATE.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- =============================================================================================
-- Registry, drain and circuit breakers

-- A worker process announces itself (and re-announces after a reconnect).
create or replace function register_worker(worker_id text, host text, pid int, queues text[], concurrency int)
returns void language sql volatile as $$
  insert into workers (id, host, pid, queues, concurrency, in_flight, status, started_at, last_seen)
  values (worker_id, host, pid, queues, concurrency, 0, 'running', now(), now())
  on conflict (id) do update
    set host = excluded.host, pid = excluded.pid, queues = excluded.queues,
        concurrency = excluded.concurrency, last_seen = now(),
        -- a drain or quiet requested while the worker was away still holds
        status = case when workers.status in ('draining', 'quiet') then workers.status else 'running' end
$$;

-- Every second: last_seen, the in-flight count (claimed or running) and how many of those are
-- buffered (claimed, handler not started: the prefetch buffer, 0024). Returns the row's status so
-- the worker learns of a drain request; NULL means the row is gone (pruned) or was declared dead
-- (rescue_stale_jobs released its jobs): the worker registers again, and the jobs it still runs
-- are no longer its own (their results are ignored; heartbeat_jobs tells it). buffered defaults
-- to 0 for workers of a build that sends two arguments; it never exceeds in_flight.
create or replace function worker_heartbeat(worker_id text, in_flight int, buffered int default 0)
returns text language sql volatile as $$
  update workers set last_seen = now(), in_flight = greatest(0, worker_heartbeat.in_flight),
         buffered = least(greatest(0, worker_heartbeat.buffered), greatest(0, worker_heartbeat.in_flight))
  where id = worker_id and status not in ('stopped', 'dead')
  returning status
$$;

create or replace function deregister_worker(worker_id text)
returns void language sql volatile as $$
  update workers set status = 'stopped', in_flight = 0, buffered = 0, last_seen = now() where id = worker_id
$$;

-- Operator commands to workers: quiet (stop claiming, keep running what it holds), resume (claim
-- again) and drain (finish what it holds, then exit). Each is a status the worker reads on its
-- next registry heartbeat. The target is one worker (worker_id), every worker of a host (host), or
-- every worker (both NULL). Naming a worker that does not exist, or one that has stopped, or a
-- host no worker ever registered from, is an error and changes nothing: an operator who typed a
-- name wants to hear that it matched nothing, not "0 workers".
-- One audit row per command, naming the target and how many workers it changed.
create or replace function _command_workers(action text, new_status text, from_statuses text[],
                                            worker_id text, host text)
returns int language plpgsql volatile as $$
declare
  n int;
  current_status text;
begin
  if worker_id is not null then
    select w.status into current_status from workers w where w.id = _command_workers.worker_id;
    if not found then
      raise exception 'no worker "%"', worker_id using errcode = 'P0002',
        hint = 'queuetop workers list shows the workers and their ids';
    end if;
    if current_status = 'stopped' then
      raise exception 'worker "%" is stopped: there is nothing to %', worker_id,
        replace(action, '_workers', '') using errcode = '55000';
    end if;
  end if;
  if host is not null and not exists (select 1 from workers w where w.host = _command_workers.host) then
    raise exception 'no worker on host "%"', host using errcode = 'P0002',
      hint = 'queuetop workers list shows the workers and their hosts';
  end if;
  update workers w set status = new_status
  where w.status = any(from_statuses)
    and (_command_workers.worker_id is null or w.id = _command_workers.worker_id)
    and (_command_workers.host is null or w.host = _command_workers.host);
  get diagnostics n = row_count;
  perform record_audit(action, jsonb_strip_nulls(jsonb_build_object(
    'worker_id', worker_id, 'host', host,
    'all', case when worker_id is null and host is null then true end)), n);
  return n;
end $$;

-- Quiet running workers: they stop claiming and finish the jobs they hold, then wait.
create or replace function quiet_workers(worker_id text default null, host text default null)
returns int language sql volatile as $$
  select _command_workers('quiet_workers', 'quiet', array['running'], worker_id, host)
$$;

-- Resume quiet workers: they claim again within about a second.
create or replace function resume_workers(worker_id text default null, host text default null)
returns int language sql volatile as $$
  select _command_workers('resume_workers', 'running', array['quiet'], worker_id, host)
$$;

-- Drain running or quiet workers: they finish their in-flight jobs, stop claiming and exit 0.
-- drain_workers() drains every worker, drain_workers(null, 'host-a') one host.
create or replace function drain_workers(worker_id text default null, host text default null)
returns int language sql volatile as $$
  select _command_workers('drain_workers', 'draining', array['running', 'quiet'], worker_id, host)
$$;

-- The worker's view of its queues' live settings and fleet-wide breaker state, one round trip
-- per second. NULL queues = every queue. tenant_rate_limit_per_s: the pool polls rate-limited
-- queues more often, as their buckets refill continuously.
create or replace function worker_queue_settings(queue_names text[])
returns table (name text, paused boolean, concurrency_limit int, rate_limit_per_s double precision,
               visibility_timeout_s int, breaker_state text, breaker_reopen_at timestamptz,
               tenant_rate_limit_per_s double precision)
language sql stable as $$
  select q.name, q.paused, q.concurrency_limit, q.rate_limit_per_s::double precision,
         q.visibility_timeout_s, coalesce(b.state, 'closed'), b.reopen_at,
         q.tenant_rate_limit_per_s::double precision
  from queues q left join circuit_breakers b on b.queue = q.name
  where queue_names is null or q.name = any(queue_names)
$$;

-- A worker records its breaker transition so the dashboard (and other workers) see it. Unknown
-- queues are ignored (the queue may have been deleted meanwhile). reopen_at must be a sane time.
create or replace function set_circuit_breaker(queue_name text, new_state text, failures int, reopen_at timestamptz)
returns void language sql volatile as $$
  select _check_time(set_circuit_breaker.reopen_at, 'reopen_at');
  insert into circuit_breakers (queue, state, consecutive_failures, opened_at, reopen_at, updated_at)
  select queue_name, new_state, greatest(0, failures),
         case when new_state = 'open' then now() end, set_circuit_breaker.reopen_at, now()
  where exists (select 1 from queues where name = queue_name)
  on conflict (queue) do update
    set state = excluded.state, consecutive_failures = excluded.consecutive_failures,
        opened_at = case when excluded.state = 'open' and circuit_breakers.state <> 'open' then now()
                         when excluded.state = 'closed' then null
                         else circuit_breakers.opened_at end,
        reopen_at = excluded.reopen_at, updated_at = now();
  select pg_notify('queuetop_changed', 'breaker');
$$;

-- =============================================================================================
-- Running jobs: cancel requests and the sql handler's backend

-- The jobs this worker holds that an operator asked to stop (cancel_job on a running job). A
-- worker learns of a request at once from NOTIFY queuetop_cancel; this is its fallback, asked
-- every second when LISTEN cannot work (a transaction pooler) and now and then otherwise, in
-- case a notification was lost across a reconnect. A probe of job_queue_cancel_requested_idx.
create or replace function worker_cancel_requests(worker_id text)
returns setof uuid language sql stable as $$
  select j.id from job_queue j
  where j.status = 'processing' and j.cancel_requested_at is not null and j.locked_by = worker_id
$$;

-- A worker records the PostgreSQL backend its sql handler runs a job on (pids[i] for ids[i]; NULL
-- clears it), so the job view can show that backend's wait event and locks. Only jobs this worker
-- holds; the column is cleared again whenever the job stops being processed. Returns how many.
create or replace function record_handler_backends(worker_id text, ids uuid[], pids int[])
returns int language plpgsql volatile as $$
declare n int := coalesce(cardinality(ids), 0);
begin
  if n = 0 then return 0; end if;
  perform _check_batch_size(n, 'number of jobs');
  if coalesce(cardinality(pids), 0) <> n then
    raise exception 'record_handler_backends: one pid (or null) per id (% ids)', n using errcode = '22023';
  end if;
  if exists (select 1 from unnest(pids) p where p <= 0) then
    raise exception 'record_handler_backends: a backend pid is a positive number' using errcode = '22023';
  end if;
  update job_queue j set handler_backend_pid = t.pid
  from unnest(ids, pids) as t(id, pid)
  where j.id = t.id and j.status = 'processing' and j.locked_by = record_handler_backends.worker_id;
  get diagnostics n = row_count;
  return n;
end $$;

-- How long a worker's registry row may stay silent before the worker counts as gone. The one
-- bound shared by the registry view below (and so the health snapshot's worker count and its
-- worker_silent alert) and by the dead-worker sweep in rescue_stale_jobs. A worker writes its row
-- every second, so this is 30 missed heartbeats; a live worker also renews the lease of every job
-- it holds at least every 10 s, which is what keeps a late but living worker's jobs its own
-- (rescue_stale_jobs; docs/WORKERS.md, "Dead workers").
create or replace function worker_silence_limit() returns interval
language sql immutable as $$ select interval '30 seconds' $$;

-- Registry as everyone shows it, and the one definition of a live worker: not stopped, not
-- declared dead, heard from within worker_silence_limit(). A worker that is neither stopped nor
-- dead but silent is 'lost' (killed, or its host is gone) until rescue_stale_jobs has handed its
-- jobs back and marked it 'dead'. Only a live worker is busy: in_flight is 0 for the others (the
-- jobs a lost worker still holds show in the queues' processing counts).
create or replace view worker_registry as
  select id, host, pid, queues, concurrency,
         case when live then in_flight else 0 end as in_flight,
         case when live or status in ('stopped', 'dead') then status else 'lost' end as status,
         started_at, last_seen, live,
         case when live then buffered else 0 end as buffered
  from (select w.*, w.status not in ('stopped', 'dead') and w.last_seen >= now() - worker_silence_limit() as live
        from workers w) w;

-- Housekeeping: forget stopped, dead and lost workers after a day.
create or replace function prune_workers(older_than interval default interval '1 day')
returns int language sql volatile as $$
  with gone as (delete from workers where last_seen < now() - older_than returning 1)
  select count(*)::int from gone
$$;

-- =============================================================================================
-- Maintenance

-- Takes the task's run when it is due: enabled, interval_s since the last start, and no other run
-- in progress (one that reported progress within stale_after_s). The conditional UPDATE is the
-- whole cross-process story: two callers racing both evaluate it, the second after the first
-- commits (READ COMMITTED re-checks the updated row), so exactly one wins per interval.
create or replace function claim_maintenance(task text, worker_id text) returns maintenance_claim
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
create or replace function maintenance_progress(task text, worker_id text, jobs_pruned bigint,
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

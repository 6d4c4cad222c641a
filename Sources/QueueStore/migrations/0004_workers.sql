-- 0004 — worker registry, operator commands to workers, circuit-breaker state.
--
-- The tables (workers, circuit_breakers) come from 0001; the worker pool (Sources/Workers) owns
-- these functions. Commands reach workers through rows they already read every second, not a
-- command queue: "drain" is workers.status = 'draining' (the worker sees it on its next registry
-- heartbeat), and "run now" is a NOTIFY on queuetop_jobs plus a breaker reset. A worker that was
-- disconnected when the command was given still sees it when it comes back.

-- A worker process announces itself (and re-announces after a reconnect).
create function register_worker(worker_id text, host text, pid int, queues text[], concurrency int)
returns void language sql volatile as $$
  insert into workers (id, host, pid, queues, concurrency, in_flight, status, started_at, last_seen)
  values (worker_id, host, pid, queues, concurrency, 0, 'running', now(), now())
  on conflict (id) do update
    set host = excluded.host, pid = excluded.pid, queues = excluded.queues,
        concurrency = excluded.concurrency, last_seen = now(),
        -- a drain requested while the worker was away still holds
        status = case when workers.status = 'draining' then 'draining' else 'running' end
$$;

-- Every second: last_seen and in-flight count. Returns the row's status so the worker learns of
-- a drain request; NULL means the row is gone (pruned) and the worker should register again.
create function worker_heartbeat(worker_id text, in_flight int)
returns text language sql volatile as $$
  update workers set last_seen = now(), in_flight = greatest(0, worker_heartbeat.in_flight)
  where id = worker_id and status <> 'stopped'
  returning status
$$;

create function deregister_worker(worker_id text)
returns void language sql volatile as $$
  update workers set status = 'stopped', in_flight = 0, last_seen = now() where id = worker_id
$$;

-- Operator: ask workers to finish their in-flight jobs, stop claiming and exit. NULL arguments
-- mean "any": drain_workers() drains every running worker, drain_workers(null, 'host-a') one host.
create function drain_workers(worker_id text default null, host text default null)
returns int language plpgsql volatile as $$
declare
  n int;
begin
  update workers w set status = 'draining'
  where w.status = 'running'
    and (drain_workers.worker_id is null or w.id = drain_workers.worker_id)
    and (drain_workers.host is null or w.host = drain_workers.host);
  get diagnostics n = row_count;
  perform record_audit('drain_workers', jsonb_strip_nulls(jsonb_build_object('worker_id', worker_id, 'host', host)), n);
  return n;
end $$;

-- Operator: process a queue now. Retries waiting out their backoff become due at once (jobs
-- scheduled for later with run_at and no failed attempt are left alone), an open circuit breaker
-- goes half-open so the next claim probes, and listening workers wake up. Returns the number of
-- pending jobs now due.
create function run_queue_now(queue_name text)
returns int language plpgsql volatile as $$
declare
  n int;
begin
  if not exists (select 1 from queues where name = queue_name) then
    raise exception 'unknown queue %', queue_name using errcode = 'P0002',
      hint = 'queuetop queue list shows the queues';
  end if;
  update job_queue set run_at = now()
  where queue = queue_name and status = 'pending' and attempt_count > 0 and run_at > now();
  update circuit_breakers set state = 'half_open', reopen_at = now(), updated_at = now()
  where queue = queue_name and state = 'open';
  select count(*) into n from job_queue
  where queue = queue_name and status = 'pending' and run_at <= now();
  perform record_audit('run_queue_now', jsonb_build_object('queue', queue_name), n);
  perform pg_notify('queuetop_jobs', queue_name);
  return n;
end $$;

-- The worker's view of its queues' live settings and fleet-wide breaker state, one round trip
-- per second. NULL queues = every queue.
create function worker_queue_settings(queue_names text[])
returns table (name text, paused boolean, concurrency_limit int, rate_limit_per_s double precision,
               visibility_timeout_s int, breaker_state text, breaker_reopen_at timestamptz)
language sql stable as $$
  select q.name, q.paused, q.concurrency_limit, q.rate_limit_per_s::double precision,
         q.visibility_timeout_s, coalesce(b.state, 'closed'), b.reopen_at
  from queues q left join circuit_breakers b on b.queue = q.name
  where queue_names is null or q.name = any(queue_names)
$$;

-- A worker records its breaker transition so the dashboard (and other workers) see it. Unknown
-- queues are ignored (the queue may have been deleted meanwhile).
create function set_circuit_breaker(queue_name text, new_state text, failures int, reopen_at timestamptz)
returns void language sql volatile as $$
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

-- Registry as the dashboard shows it: a running worker silent for 30 s is 'lost' (killed, or
-- its host is gone); its jobs come back through rescue_stale_jobs.
create view worker_registry as
  select id, host, pid, queues, concurrency, in_flight,
         case when status <> 'stopped' and last_seen < now() - interval '30 seconds' then 'lost'
              else status end as status,
         started_at, last_seen
  from workers;

-- Housekeeping: forget stopped and lost workers after a day.
create function prune_workers(older_than interval default interval '1 day')
returns int language sql volatile as $$
  with gone as (delete from workers where last_seen < now() - older_than returning 1)
  select count(*)::int from gone
$$;

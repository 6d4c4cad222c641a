-- 0008 — recurring schedules (cron) and alert hooks (webhooks for health alerts).
--
-- Applies after 0001 (record_audit, enqueue_job) and 0003 (queue_health_snapshot). Reference:
-- docs/SCHEDULES_AND_ALERTS.md.
--
-- Schedules. Cron expressions are parsed and next fire times computed in Swift
-- (QueueStore/CronExpression.swift): SQL stores the expression and the next fire time. Exactly
-- one enqueue per tick across any number of worker processes: the ticker locks due rows with
-- FOR UPDATE SKIP LOCKED and, in the same transaction, enqueues (fire_schedule) and moves
-- next_run_at past now; a second ticker either skips the locked row or, once the first commits,
-- re-checks `next_run_at <= now()` on the new row version and drops it. The job's dedup key
-- (schedule:<name>:<tick epoch>) is a second guard while that job is still active.
--
-- Alert hooks. One process at a time (transaction advisory lock) compares the alerts of
-- queue_health_snapshot() with alert_states and queues one notification per hook when an alert
-- starts firing or clears: a refresh that sees the same alert again sends nothing. Workers then
-- POST notifications and record every attempt in alert_deliveries; failures retry with backoff.
-- Secrets are never stored: a hook names the environment variable that holds its header value.

-- =============================================================================================
-- Schedules
create table schedules (
  name          text primary key check (name ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$'),
  -- Checked in full by the Swift parser before insert; here only its shape, so that a raw
  -- INSERT cannot store something that is not even five or six fields or a macro.
  cron          text not null check (cron ~ '^\s*(@[a-z]+|\S+(\s+\S+){4,5})\s*$'),
  queue         text not null check (queue ~ '^[^[:cntrl:][:space:]]([^[:cntrl:]]{0,198}[^[:cntrl:][:space:]])?$'),
  job_type      text not null check (length(job_type) between 1 and 200),
  payload       jsonb not null default '{}',
  priority      int not null default 0 check (priority between -1000000 and 1000000),
  enabled       boolean not null default true,
  next_run_at   timestamptz not null,
  last_run_at   timestamptz,
  last_job_id   uuid,
  -- 'enqueued', 'deduplicated' (the previous tick's job still active), 'run now', or 'error: …'.
  last_outcome  text,
  -- Ticks skipped by coalescing after downtime, in total.
  missed_ticks  bigint not null default 0 check (missed_ticks >= 0),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
create index schedules_due_idx on schedules (next_run_at) where enabled;

create function _require_schedule(p_name text) returns schedules
language plpgsql stable as $$
declare r schedules;
begin
  select * into r from schedules where name = p_name;
  if not found then
    raise exception 'unknown schedule "%"', p_name
      using errcode = 'P0002', hint = 'List schedules with `queuetop schedule list`.';
  end if;
  return r;
end $$;

-- Operator: add a schedule. next_run_at comes from the caller's cron parser (queuetop computes
-- it); a name in use is a conflict, not an overwrite.
create function create_schedule(p_name text, p_cron text, p_queue text, p_job_type text,
                                p_payload jsonb, p_priority int, p_next_run_at timestamptz)
returns schedules language plpgsql volatile as $$
declare r schedules;
begin
  if exists (select 1 from schedules where name = p_name) then
    raise exception 'schedule "%" already exists', p_name
      using errcode = '55000', hint = 'Delete it first, or pick another name.';
  end if;
  if p_next_run_at is null then
    raise exception 'next_run_at is required' using errcode = '22023';
  end if;
  insert into schedules (name, cron, queue, job_type, payload, priority, next_run_at)
  values (p_name, p_cron, p_queue, p_job_type, coalesce(p_payload, '{}'), coalesce(p_priority, 0), p_next_run_at)
  returning * into r;
  perform record_audit('schedule.add', jsonb_build_object('name', p_name, 'cron', p_cron, 'queue', p_queue,
                                                           'job_type', p_job_type), 1);
  return r;
end $$;

-- Operator: enable or disable. p_next_run_at (optional) restarts the clock on enable, so a
-- schedule disabled for a week does not fire at once for the tick it missed.
create function set_schedule_enabled(p_name text, p_enabled boolean, p_next_run_at timestamptz default null)
returns schedules language plpgsql volatile as $$
declare r schedules;
begin
  perform _require_schedule(p_name);
  update schedules set enabled = p_enabled, next_run_at = coalesce(p_next_run_at, next_run_at), updated_at = now()
  where name = p_name returning * into r;
  perform record_audit(case when p_enabled then 'schedule.enable' else 'schedule.disable' end,
                       jsonb_build_object('name', p_name), 1);
  return r;
end $$;

-- Operator: enqueue the schedule's job now, once, whether or not it is enabled; the regular
-- ticks are not moved. Returns the job id.
create function run_schedule_now(p_name text)
returns uuid language plpgsql volatile as $$
declare
  s schedules := _require_schedule(p_name);
  v_job uuid;
begin
  v_job := enqueue_job(s.queue, s.job_type, s.payload, s.priority, null,
                       'schedule:' || s.name || ':now:' || (extract(epoch from clock_timestamp()) * 1000)::bigint);
  update schedules set last_run_at = now(), last_job_id = v_job, last_outcome = 'run now', updated_at = now()
  where name = p_name;
  perform record_audit('schedule.run', jsonb_build_object('name', p_name, 'job_id', v_job), 1);
  return v_job;
end $$;

create function delete_schedule(p_name text)
returns void language plpgsql volatile as $$
begin
  perform _require_schedule(p_name);
  delete from schedules where name = p_name;
  perform record_audit('schedule.delete', jsonb_build_object('name', p_name), 1);
end $$;

-- Ticker: the due schedules, locked for this transaction; rows another ticker holds are skipped.
create function lock_due_schedules(max_rows int default 100)
returns table (name text, cron text, next_run_at timestamptz, db_now timestamptz)
language sql volatile as $$
  select s.name, s.cron, s.next_run_at, now() from schedules s
  where s.enabled and s.next_run_at <= now()
  order by s.next_run_at
  limit greatest(1, least(max_rows, 10000))
  for update skip locked
$$;

-- Ticker: one run for a locked due schedule. p_tick_at is the tick being run (the latest due
-- one when ticks were missed), p_missed how many earlier ticks were coalesced into it. A failed
-- enqueue (e.g. an invalid queue) is recorded as the outcome and the schedule still advances,
-- so one bad schedule cannot make every ticker retry it in a tight loop.
create function fire_schedule(p_name text, p_tick_at timestamptz, p_missed int, p_next_run_at timestamptz)
returns text language plpgsql volatile as $$
declare
  s schedules := _require_schedule(p_name);
  v_key text := 'schedule:' || s.name || ':' || floor(extract(epoch from p_tick_at))::bigint;
  v_job uuid;
  v_existing uuid;
  v_outcome text;
begin
  select id into v_existing from job_queue
  where queue = s.queue and dedup_key = v_key and status in ('pending', 'processing');
  begin
    v_job := enqueue_job(s.queue, s.job_type, s.payload, s.priority, null, v_key);
    v_outcome := case when v_job = v_existing then 'deduplicated' else 'enqueued' end;
  exception when others then
    v_job := null;
    v_outcome := 'error: ' || left(sqlerrm, 500);
  end;
  if coalesce(p_missed, 0) > 0 then
    v_outcome := v_outcome || format(' (coalesced %s missed tick%s)', p_missed, case when p_missed = 1 then '' else 's' end);
  end if;
  update schedules
  set next_run_at = p_next_run_at, last_run_at = now(), last_job_id = coalesce(v_job, last_job_id),
      last_outcome = v_outcome, missed_ticks = missed_ticks + greatest(coalesce(p_missed, 0), 0), updated_at = now()
  where name = p_name;
  return v_outcome;
end $$;

-- Ticker: a row whose expression the parser rejects (a raw INSERT) is disabled with the reason.
create function disable_broken_schedule(p_name text, p_reason text)
returns void language sql volatile as $$
  update schedules set enabled = false, last_outcome = 'error: ' || left(p_reason, 500), updated_at = now()
  where name = p_name
$$;

-- =============================================================================================
-- Alert hooks
create table alert_hooks (
  name          text primary key check (name ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$'),
  url           text not null check (url ~ '^https?://[^[:space:][:cntrl:]/]+' and length(url) <= 2000),
  -- One optional secret header, e.g. Authorization: the VALUE is read from the environment
  -- variable secret_env of the worker that delivers; it is never stored.
  secret_header text check (secret_header ~ '^[A-Za-z0-9-]{1,100}$'),
  secret_env    text check (secret_env ~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$'),
  secret_prefix text not null default '' check (length(secret_prefix) <= 100),
  enabled       boolean not null default true,
  created_at    timestamptz not null default now(),
  check ((secret_header is null) = (secret_env is null))
);

-- The last state seen of each alert, by key: kind and queue, or kind and worker id for
-- worker_silent (the snapshot's message starts "worker <id> ").
create table alert_states (
  alert_key  text primary key,
  kind       text not null,
  queue      text,
  firing     boolean not null,
  alert      jsonb not null,
  changed_at timestamptz not null default now()
);

-- Outbox: one row per hook per fired or cleared alert. pending -> delivered | failed (gave up).
create table alert_notifications (
  id              bigserial primary key,
  hook            text not null references alert_hooks (name) on delete cascade,
  alert_key       text not null,
  event           text not null check (event in ('firing', 'cleared')),
  payload         jsonb not null,
  status          text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts        int not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  created_at      timestamptz not null default now(),
  finished_at     timestamptz
);
create index alert_notifications_due_idx on alert_notifications (next_attempt_at) where status = 'pending';
create index alert_notifications_finished_idx on alert_notifications (finished_at) where status <> 'pending';

-- Every attempt, successful or not: what the dashboard and `queuetop alerts deliveries` show.
create table alert_deliveries (
  id              bigserial primary key,
  notification_id bigint not null references alert_notifications (id) on delete cascade,
  hook            text not null,
  alert_key       text not null,
  event           text not null,
  attempt         int not null check (attempt >= 1),
  ok              boolean not null,
  http_status     int,
  error           text,
  duration_ms     int check (duration_ms >= 0),
  at              timestamptz not null default now()
);
create index alert_deliveries_at_idx on alert_deliveries (at desc);
create index alert_deliveries_notification_idx on alert_deliveries (notification_id);

create function add_alert_hook(p_name text, p_url text, p_secret_header text default null,
                               p_secret_env text default null, p_secret_prefix text default '')
returns alert_hooks language plpgsql volatile as $$
declare r alert_hooks;
begin
  if exists (select 1 from alert_hooks where name = p_name) then
    raise exception 'alert hook "%" already exists', p_name
      using errcode = '55000', hint = 'Remove it first, or pick another name.';
  end if;
  insert into alert_hooks (name, url, secret_header, secret_env, secret_prefix)
  values (p_name, p_url, p_secret_header, p_secret_env, coalesce(p_secret_prefix, ''))
  returning * into r;
  -- The URL may carry credentials: the audit row keeps only its scheme and host.
  perform record_audit('alert_hook.add', jsonb_build_object('name', p_name,
    'host', substring(p_url from '^https?://(?:[^@/]*@)?([^/?#]+)'), 'secret_env', p_secret_env), 1);
  return r;
end $$;

create function remove_alert_hook(p_name text)
returns void language plpgsql volatile as $$
begin
  delete from alert_hooks where name = p_name;
  if not found then
    raise exception 'unknown alert hook "%"', p_name
      using errcode = 'P0002', hint = 'List hooks with `queuetop alerts hooks list`.';
  end if;
  perform record_audit('alert_hook.remove', jsonb_build_object('name', p_name), 1);
end $$;

-- The snapshot's alerts array as rows, each with its key.
create function _alert_rows(alerts jsonb)
returns table (alert_key text, kind text, queue text, alert jsonb)
language sql immutable as $$
  select distinct on (k.key) k.key, a->>'kind', a->>'queue', a
  from jsonb_array_elements(coalesce(alerts, '[]')) a
  cross join lateral (select (a->>'kind') || ':' || coalesce(a->>'queue', substring(a->>'message' from '^worker (\S+) '), '')
                      as key) k
  order by k.key
$$;

-- One notification per enabled hook for each alert that fired or cleared (keys and alerts are
-- parallel arrays). The payload is the snapshot's alert plus event, alert_key, at and source.
create function _queue_alert_notifications(p_event text, p_keys text[], p_alerts jsonb[], p_at timestamptz)
returns int language plpgsql volatile as $$
declare n int;
begin
  insert into alert_notifications (hook, alert_key, event, payload)
  select h.name, a.k, p_event,
         a.alert || jsonb_build_object('event', p_event, 'alert_key', a.k, 'at', p_at, 'source', 'queuetop')
  from unnest(p_keys, p_alerts) a(k, alert) cross join alert_hooks h
  where h.enabled
  order by a.k, h.name;
  get diagnostics n = row_count;
  return n;
end $$;

-- When the alerts were last compared: every worker process runs the sync, and this keeps the
-- whole fleet to one health snapshot per min_interval_s, not one per process.
create table alert_sync (
  singleton boolean primary key default true check (singleton),
  synced_at timestamptz not null,
  pruned_at timestamptz not null default now()
);

-- Finished notifications (and, by cascade, their delivery attempts) are kept this long.
create function alert_history_retention() returns interval language sql immutable as $$ select interval '30 days' $$;

-- Compares the current alerts with alert_states ("what the hooks were last told") and queues
-- notifications for what changed. Returns the number of notifications queued; 0 when the last
-- sync was less than min_interval_s ago; NULL when another session is syncing (the lock makes
-- "one process at a time" hold across hosts; the loser simply skips this round). With no enabled
-- hook the states are forgotten, so a hook added later hears of the alerts already firing.
create function sync_alert_states(min_interval_s double precision default 0)
returns int language plpgsql volatile as $$
declare
  v_now timestamptz := now();
  v_last timestamptz;
  v_alerts jsonb;
  v_keys text[];
  v_changed jsonb[];
  v_queued int := 0;
begin
  if not pg_try_advisory_xact_lock(hashtext('queuetop.alert_hooks')) then
    return null;
  end if;
  select synced_at into v_last from alert_sync;
  if v_last is not null and clock_timestamp() - v_last < make_interval(secs => greatest(min_interval_s, 0)) then
    return 0;
  end if;
  insert into alert_sync (singleton, synced_at) values (true, clock_timestamp())
  on conflict (singleton) do update set synced_at = excluded.synced_at;
  -- Hourly, the history past retention goes (a notification still pending is never pruned).
  if (select pruned_at from alert_sync) < v_now - interval '1 hour' then
    delete from alert_notifications
    where status <> 'pending' and finished_at < v_now - alert_history_retention();
    update alert_sync set pruned_at = v_now;
  end if;
  if not exists (select 1 from alert_hooks where enabled) then
    delete from alert_states;
    return 0;
  end if;
  v_alerts := queue_health_snapshot()->'alerts';

  -- Newly firing: absent or cleared before.
  with fired as (
    insert into alert_states as s (alert_key, kind, queue, firing, alert, changed_at)
    select c.alert_key, c.kind, c.queue, true, c.alert, v_now from _alert_rows(v_alerts) c
    left join alert_states o on o.alert_key = c.alert_key
    where o.alert_key is null or not o.firing
    on conflict (alert_key) do update set firing = true, alert = excluded.alert, changed_at = v_now
    returning s.alert_key, s.alert
  )
  select array_agg(alert_key order by alert_key), array_agg(alert order by alert_key) into v_keys, v_changed from fired;
  v_queued := v_queued + _queue_alert_notifications('firing', v_keys, v_changed, v_now);

  -- Still firing: keep the latest figures, notify nothing.
  update alert_states s set alert = c.alert from _alert_rows(v_alerts) c
  where s.alert_key = c.alert_key and s.firing and s.alert is distinct from c.alert;

  -- Cleared: was firing, no longer reported.
  with cleared as (
    update alert_states s set firing = false, changed_at = v_now
    where s.firing and not exists (select 1 from _alert_rows(v_alerts) c where c.alert_key = s.alert_key)
    returning s.alert_key, s.alert
  )
  select array_agg(alert_key order by alert_key), array_agg(alert order by alert_key) into v_keys, v_changed from cleared;
  v_queued := v_queued + _queue_alert_notifications('cleared', v_keys, v_changed, v_now);

  if v_queued > 0 then perform pg_notify('queuetop_changed', 'alert_hooks'); end if;
  return v_queued;
end $$;

-- Deliverer: takes up to max_rows due notifications and leases them for lease_s seconds (a
-- deliverer that dies mid-POST leaves them to be retried after the lease).
create function claim_alert_notifications(max_rows int default 20, lease_s int default 60)
returns table (id bigint, hook text, url text, secret_header text, secret_env text, secret_prefix text,
               payload jsonb, attempts int)
language sql volatile as $$
  with due as (
    select n.id from alert_notifications n
    where n.status = 'pending' and n.next_attempt_at <= now()
    order by n.id
    limit greatest(1, least(max_rows, 1000))
    for update skip locked
  ), leased as (
    update alert_notifications n set next_attempt_at = now() + make_interval(secs => greatest(lease_s, 1))
    from due where n.id = due.id
    returning n.*
  )
  select l.id, l.hook, h.url, h.secret_header, h.secret_env, h.secret_prefix, l.payload, l.attempts
  from leased l join alert_hooks h on h.name = l.hook
  order by l.id
$$;

-- Deliverer: records one attempt. A failure is retried after 1, 2, 4 … 300 s, and given up
-- (status failed) after max_attempts. Returns the notification's new status.
create function record_alert_delivery(p_notification_id bigint, p_ok boolean, p_http_status int,
                                      p_error text, p_duration_ms int, max_attempts int default 8)
returns text language plpgsql volatile as $$
declare
  r alert_notifications;
begin
  update alert_notifications n
  set attempts = n.attempts + 1,
      status = case when p_ok then 'delivered' when n.attempts + 1 >= max_attempts then 'failed' else 'pending' end,
      next_attempt_at = case when p_ok then n.next_attempt_at
                             else now() + make_interval(secs => least(300, power(2, n.attempts)::int)) end,
      finished_at = case when p_ok or n.attempts + 1 >= max_attempts then now() end
  where n.id = p_notification_id and n.status = 'pending'
  returning * into r;
  if not found then
    raise exception 'alert notification % is not pending', p_notification_id using errcode = '55000';
  end if;
  insert into alert_deliveries (notification_id, hook, alert_key, event, attempt, ok, http_status, error, duration_ms)
  values (r.id, r.hook, r.alert_key, r.event, r.attempts, p_ok, p_http_status, left(p_error, 2000), greatest(p_duration_ms, 0));
  perform pg_notify('queuetop_changed', 'alert_delivery');
  return r.status;
end $$;

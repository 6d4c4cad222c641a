-- Alert hooks (webhooks for health alerts). Reference: docs/SCHEDULES_AND_ALERTS.md.
--
-- One process at a time (transaction advisory lock) compares the alerts of
-- queue_health_snapshot() with alert_states and queues one notification per hook when an alert
-- starts firing or clears: a refresh that sees the same alert again sends nothing. Workers then
-- POST notifications and record every attempt in alert_deliveries; failures retry with backoff.
-- Secrets are never stored: a hook names the environment variable that holds its header value.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- =============================================================================================
-- Hooks

create or replace function add_alert_hook(p_name text, p_url text, p_secret_header text default null,
                                          p_secret_env text default null, p_secret_prefix text default '')
returns alert_hooks language plpgsql volatile as $$
declare r alert_hooks;
begin
  if exists (select 1 from alert_hooks where name = p_name) then
    raise exception 'alert hook "%" already exists', p_name
      using errcode = '55000', hint = 'Remove it first, or pick another name.';
  end if;
  -- Every viewer reads alert_hooks: a password in the URL would be readable by all of them.
  if p_url ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@' then
    raise exception 'the alert hook URL carries credentials (user:password@host); they would be readable by every viewer'
      using errcode = '22023',
            hint = 'Remove them from the URL and send them in a secret header instead: give the header name '
                   '(e.g. Authorization) and the environment variable of the delivering worker that holds its value.';
  end if;
  -- The secret is the value of the delivering worker's environment variable p_secret_env, posted
  -- to a URL the operator chooses: refuse names that hold the worker's own credentials and
  -- settings (PGPASSWORD and every PG* variable libpq reads, QUEUETOP_*), and anything that is
  -- not a plain upper-case variable name. Which names a worker actually sends is also limited by
  -- the worker's own configuration.
  if p_secret_env is not null and (p_secret_env !~ '^[A-Z_][A-Z0-9_]*$' or p_secret_env ~ '^PG'
                                   or p_secret_env ~ '^QUEUETOP_') then
    raise exception 'secret environment variable name "%" is not allowed', left(p_secret_env, 130)
      using errcode = '22023',
            hint = 'Use an upper-case name of letters, digits and _ (e.g. ALERT_WEBHOOK_TOKEN) that does not start with PG or QUEUETOP_.';
  end if;
  -- The prefix starts the secret header's value: a CR or LF in it would start a header of its own.
  if p_secret_prefix ~ '[\r\n]' then
    raise exception 'the secret prefix must not contain a carriage return or line feed: it is sent as an HTTP header value'
      using errcode = '22023';
  end if;
  insert into alert_hooks (name, url, secret_header, secret_env, secret_prefix)
  values (p_name, p_url, p_secret_header, p_secret_env, coalesce(p_secret_prefix, ''))
  returning * into r;
  -- The URL may carry credentials: the audit row keeps only its scheme and host.
  perform record_audit('alert_hook.add', jsonb_build_object('name', p_name,
    'host', substring(p_url from '^https?://(?:[^@/]*@)?([^/?#]+)'), 'secret_env', p_secret_env), 1);
  return r;
end $$;

create or replace function remove_alert_hook(p_name text)
returns void language plpgsql volatile as $$
begin
  delete from alert_hooks where name = p_name;
  if not found then
    raise exception 'unknown alert hook "%"', p_name
      using errcode = 'P0002', hint = 'List hooks with `queuetop alerts hooks list`.';
  end if;
  perform record_audit('alert_hook.remove', jsonb_build_object('name', p_name), 1);
end $$;

-- =============================================================================================
-- Alert states and notifications

-- The snapshot's alerts array as rows, each with its key.
create or replace function _alert_rows(alerts jsonb)
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
create or replace function _queue_alert_notifications(p_event text, p_keys text[], p_alerts jsonb[], p_at timestamptz)
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

-- Finished notifications (and, by cascade, their delivery attempts) are kept this long.
create or replace function alert_history_retention() returns interval language sql immutable as $$ select interval '30 days' $$;

-- Compares the current alerts with alert_states ("what the hooks were last told") and queues
-- notifications for what changed. Returns the number of notifications queued; 0 when the last
-- sync was less than min_interval_s ago; NULL when another session is syncing (the lock makes
-- "one process at a time" hold across hosts; the loser simply skips this round). With no enabled
-- hook the states are forgotten, so a hook added later hears of the alerts already firing; the
-- timeline's record of transitions (_record_alert_events) is kept either way.
create or replace function sync_alert_states(min_interval_s double precision default 0)
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
    delete from alert_events where at < v_now - alert_history_retention();
    update alert_sync set pruned_at = v_now;
  end if;
  -- Every transition goes on the incident timeline (85_timeline.sql), hooks or not: so the
  -- snapshot is taken on every sync, at most once per min_interval_s across the fleet.
  v_alerts := queue_health_snapshot()->'alerts';
  perform _record_alert_events(v_alerts, v_now);
  if not exists (select 1 from alert_hooks where enabled) then
    delete from alert_states;
    return 0;
  end if;

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

-- =============================================================================================
-- Delivery

-- Deliverer: takes up to max_rows due notifications and leases them for lease_s seconds (a
-- deliverer that dies mid-POST leaves them to be retried after the lease).
create or replace function claim_alert_notifications(max_rows int default 20, lease_s int default 60)
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
create or replace function record_alert_delivery(p_notification_id bigint, p_ok boolean, p_http_status int,
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

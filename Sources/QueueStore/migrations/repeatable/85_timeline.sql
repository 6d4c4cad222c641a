-- The incident timeline: deploy marks, alert transitions and operator actions on one list,
-- newest first. Reference: docs/TIMELINE.md.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- =============================================================================================
-- Marks

-- Puts a mark on the timeline ("deploy v42"): what an app, CI or `queuetop mark` calls. Granted
-- to operators and to producers, since a deploy pipeline usually holds a producer's credentials;
-- a mark changes no job and no setting, it only adds one bounded row. The label is one line of
-- at most 200 characters without control characters (screens print it; they sanitise anyway);
-- the kind is a short lower-case word (deploy, release, config, incident, note…).
-- At most 60 marks per login role in any hour (54000 beyond): a producer's credentials are
-- the ones most often found in an app's environment, and without a bound a loop of marks would
-- grow a table nothing prunes and push the operators' actions and the alerts out of the
-- newest rows the timeline shows. The count and the insert are serialised per role (an
-- advisory lock for the transaction), so concurrent callers cannot slip past it together.
create or replace function mark_event(p_label text, p_kind text default 'deploy')
returns timeline_marks language plpgsql volatile as $$
declare
  v_label text := btrim(p_label);
  v_recent int;
  r timeline_marks;
begin
  if v_label is null or v_label = '' then
    raise exception 'a mark needs a label, e.g. "deploy v42"' using errcode = '22023';
  end if;
  if char_length(v_label) > 200 then
    raise exception 'the mark label is % characters long; at most 200', char_length(v_label)
      using errcode = '22023', hint = 'Shorten it: a version, a ticket, a one-line reason.';
  end if;
  -- What SafeText calls unsafe (docs/RELIABILITY.md, "Output safety"): controls, and the bidi
  -- overrides, zero-width characters and line separators that make "deploy v42" read as
  -- something else wherever the label is shown raw (psql, an app reading timeline()).
  if v_label ~ '[\x01-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]' then
    raise exception 'the mark label contains a control character (a line break, a tab, an escape, a bidi override…)'
      using errcode = '22023', hint = 'A label is one line of printable text.';
  end if;
  if p_kind is null or p_kind !~ '^[a-z][a-z0-9_-]{0,31}$' then
    raise exception 'mark kind "%" is not a short lower-case word', left(coalesce(p_kind, 'null'), 40)
      using errcode = '22023', hint = 'Use e.g. deploy, release, config, incident or note (a-z, 0-9, _ and -, at most 32).';
  end if;
  perform pg_advisory_xact_lock(hashtext('queuetop.mark_event'), hashtext(session_user));
  select count(*) into v_recent from timeline_marks m
  where m.at > now() - interval '1 hour' and m.db_role = session_user;
  if v_recent >= 60 then
    raise exception 'role % made % marks in the last hour; at most 60', session_user, v_recent
      using errcode = '54000', hint = 'A mark is for a deploy or an incident, not for every job; try again later.';
  end if;
  insert into timeline_marks (kind, label, db_role, client_label)
  values (p_kind, v_label, session_user,
          left(coalesce(nullif(current_setting('queuetop.actor', true), ''),
                        nullif(current_setting('application_name'), '')), 200))
  returning * into r;
  perform pg_notify('queuetop_changed', 'mark');
  return r;
end $$;

-- =============================================================================================
-- Alert transitions

-- Called by sync_alert_states (75_alerts.sql) with the snapshot's alerts on every sync, whether
-- or not any hook is enabled: an alert that starts firing or clears adds one alert_events row.
-- Returns the number of rows added. Keys are the hooks' keys (_alert_rows).
create or replace function _record_alert_events(p_alerts jsonb, p_at timestamptz)
returns int language plpgsql volatile as $$
declare n int; m int;
begin
  with cur as (select * from _alert_rows(p_alerts)),
  fired as (
    insert into alert_timeline_states (alert_key, alert, since)
    select c.alert_key, c.alert, p_at from cur c
    where not exists (select 1 from alert_timeline_states s where s.alert_key = c.alert_key)
    returning alert_key, alert
  )
  insert into alert_events (at, alert_key, kind, queue, event, alert)
  select p_at, f.alert_key, f.alert->>'kind', f.alert->>'queue', 'firing', f.alert from fired f;
  get diagnostics n = row_count;

  -- Still firing: keep the latest figures, so the "cleared" row says what it cleared from.
  update alert_timeline_states s set alert = c.alert from _alert_rows(p_alerts) c
  where s.alert_key = c.alert_key and s.alert is distinct from c.alert;

  with cleared as (
    delete from alert_timeline_states s
    where not exists (select 1 from _alert_rows(p_alerts) c where c.alert_key = s.alert_key)
    returning s.alert_key, s.alert
  )
  insert into alert_events (at, alert_key, kind, queue, event, alert)
  select p_at, c.alert_key, c.alert->>'kind', c.alert->>'queue', 'cleared', c.alert from cleared c;
  get diagnostics m = row_count;
  return n + m;
end $$;

-- =============================================================================================
-- The timeline

-- A uuid from untrusted JSON text, or NULL: an operator's raw record_audit call may put anything
-- in a filter, and one odd row must not make the whole timeline fail.
create or replace function _uuid_or_null(t text) returns uuid
language sql immutable as $$
  select case when t ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then t::uuid end
$$;

-- How the timeline words an audit row: its filter as JSON (operator actions read well so),
-- except the expirer's job.expire rows, whose filter is {"queue": q, "ids": [first <= 20 ids]}:
-- as JSON that is quotes and hex before it says anything, so it is worded as the audit screen
-- words it (AuditFilterText.swift): "emails: ids 9bc7bfa9 3e1f08c2 +37 more", ids as their
-- last 8 characters (ShortJobID). A filter not of that shape falls back to its JSON.
create or replace function _audit_summary(p_action text, p_filter jsonb, p_affected bigint) returns text
language sql immutable as $$
  select case
    when p_action = 'job.expire' and jsonb_typeof(p_filter->'queue') = 'string'
         and coalesce(jsonb_typeof(p_filter->'ids'), 'array') = 'array' then
      left(p_filter->>'queue', 200)
      || coalesce(': ids ' || nullif((select string_agg(lower(right(i.id, 8)), ' ' order by i.n)
                                      from jsonb_array_elements_text(p_filter->'ids') with ordinality as i(id, n)
                                      where i.n <= 20), ''), '')
      || case when p_affected > least(coalesce(jsonb_array_length(p_filter->'ids'), 0), 20)
              then ' +' || (p_affected - least(coalesce(jsonb_array_length(p_filter->'ids'), 0), 20)) || ' more'
              else '' end
    else left(p_filter::text, 300)
  end
$$;

-- Everything that happened between p_since and p_until (default: the last 24 hours up to now),
-- newest first, at most p_limit rows (1…1000): deploy marks, alerts fired and cleared, and the
-- audit trail (operator actions, schedule changes, workers declared dead, expiries). Each row
-- says where it comes from (source: mark | alert | audit) and carries the id to open it by:
-- audit_id for an audit row, job_id when the action concerned exactly one job. Runs as its
-- caller: viewers read all three tables.
create or replace function timeline(p_since timestamptz default null, p_until timestamptz default null,
                                    p_limit int default 200)
returns table (at timestamptz, source text, event text, queue text, actor text, summary text,
               id bigint, job_id uuid, affected bigint, detail jsonb)
language plpgsql stable as $$
declare
  v_until timestamptz := coalesce(p_until, now());
  v_since timestamptz := coalesce(p_since, coalesce(p_until, now()) - interval '24 hours');
  v_limit int := greatest(1, least(coalesce(p_limit, 200), 1000));
begin
  if v_since > v_until then
    raise exception 'the timeline window starts (%) after it ends (%)', v_since, v_until
      using errcode = '22023';
  end if;
  return query
  select t.at, t.source, t.event, t.queue, t.actor, t.summary, t.id, t.job_id, t.affected, t.detail
  from (
    (select m.at, 'mark'::text as source, m.kind as event, null::text as queue, m.db_role as actor,
            m.label as summary, m.id, null::uuid as job_id, 0::bigint as affected,
            jsonb_build_object('label', m.label, 'client_label', m.client_label) as detail
     from timeline_marks m where m.at >= v_since and m.at <= v_until
     order by m.at desc, m.id desc limit v_limit)
    union all
    (select e.at, 'alert', 'alert.' || e.event, e.queue, null,
            coalesce(e.alert->>'message', e.kind), e.id, null, 0, e.alert
     from alert_events e where e.at >= v_since and e.at <= v_until
     order by e.at desc, e.id desc limit v_limit)
    union all
    (select a.at, 'audit', a.action,
            -- A lead migration's rows name no queue in their filter; their jobs run in
            -- lead_migrations (55_leads.sql), which is what the QUEUE column should say.
            case when jsonb_typeof(a.filter->'queue') = 'string' then a.filter->>'queue'
                 when a.action like 'lead\_migration.%' then 'lead_migrations' end,
            coalesce(a.actor, a.db_role), _audit_summary(a.action, a.filter, a.affected), a.id,
            coalesce(_uuid_or_null(a.filter->>'job_id'),
                     case when jsonb_typeof(a.filter->'ids') = 'array' and jsonb_array_length(a.filter->'ids') = 1
                          then _uuid_or_null(a.filter->'ids'->>0) end),
            a.affected, a.filter
     from audit_log a where a.at >= v_since and a.at <= v_until
     order by a.at desc, a.id desc limit v_limit)
  ) t
  order by t.at desc, t.source, t.id desc
  limit v_limit;
end $$;

-- Privileges: the one place that says, for every function and procedure of queuetop's schema,
-- whether it runs as its owner (definer) or as its caller (invoker) and which roles may execute
-- it; what the roles may read; and the roles themselves. It runs last, in the same transaction as
-- the other repeatable files, in the schema they were applied to (current_schema()).
--
-- Why writing functions are SECURITY DEFINER: with INVOKER functions every role that calls
-- requeue_dlq_jobs or claim_jobs would need UPDATE on job_queue itself, and then it could change
-- any row with a raw UPDATE (a worker could requeue the DLQ, an operator could skip the audit
-- trail). As DEFINER, roles get no write privilege on any table: the only way to change a job is a
-- function that checks its input and writes the audit row. Audit rows still name the caller:
-- audit_log.db_role defaults to session_user, which DEFINER does not change. Read-only functions
-- stay INVOKER: they run with the caller's SELECT privileges.
--
-- Every function gets search_path = <schema>, pg_temp, so a caller cannot shadow the tables or
-- functions it uses (pg_temp last; PostgreSQL never looks in pg_temp for functions or operators),
-- except the pure helpers below.
--
-- Pure helpers ('pure' in the list): small functions whose body uses only its arguments and
-- built-in pg_catalog functions and operators: no table, view or type of the schema, no other
-- queuetop function (checked below, on every run). They get NO search_path, because a function
-- with a SET clause is never inlined into the query that calls it: PostgreSQL calls it through
-- the function manager, with a GUC save and restore around every call. Measured on the hot
-- path (0014's notes): health_bucket 0.33 -> 5.8 us a call with the clause, uuid_v7 4.5 -> 11.8,
-- backoff_delay_s 0.4 -> 8.7, about 20 % of complete_jobs for 5,000 jobs. Why it is safe: a pure
-- function is SECURITY INVOKER (enforced: 'pure' means invoker), so whatever its body resolves
-- runs with the privileges of whoever called it. Called from a DEFINER function, a trigger or
-- another queuetop function, it is inlined into, or run under, that caller's pinned
-- `<schema>, pg_temp` (pg_catalog is searched first, pg_temp never for functions); called
-- directly by a role with an odd search_path, it can at worst run that role's own objects as
-- that same role. A helper that needs a table or another queuetop function is not pure.
-- CREATE OR REPLACE FUNCTION resets SECURITY DEFINER and SET search_path to what its text says
-- (the concern files say neither) and keeps the ACL; this file sets all three again on every run.
--
-- Give a person or a service a LOGIN role that is a member of a group role:
--   CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE queuetop_operator;
-- The role matrix and the reasons are in docs/RELIABILITY.md and docs/SQL_LAYOUT.md.

-- Roles are cluster-wide and a cluster may already have them (another database of the same
-- cluster migrated first, possibly at this very moment): create each only when missing, and
-- treat losing that race as success.
do $$
declare r text;
begin
  foreach r in array array['queuetop_viewer', 'queuetop_operator', 'queuetop_worker', 'queuetop_producer'] loop
    if not exists (select 1 from pg_roles where rolname = r) then
      begin
        execute format('create role %I nologin', r);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
end $$;

-- ---------------------------------------------------------------------------------------------
-- Functions and procedures: (name, 'definer' | 'invoker' | 'pure', roles that may EXECUTE it). A row
-- names every overload of a name (today no name has two), or one overload by its signature as
-- regprocedure prints it ('claim_jobs(text,text[],integer)') when overloads differ. Nothing is
-- granted to PUBLIC and every grant not listed here is revoked: the list is the whole truth.
--
-- The roles (docs/SQL_LAYOUT.md, "Roles"):
--   queuetop_viewer    the read functions: the STABLE and IMMUTABLE functions (PostgreSQL refuses
--                      data changes inside them, so they are safe to grant), and the health
--                      snapshot, which the dashboard needs although it folds. Three non-volatile
--                      internal helpers added after the roles, _require_schedule, _alert_rows and
--                      _bucket_level, were never granted; the list keeps that as it is.
--   queuetop_operator  the viewer's functions plus the operator actions (each writes its audit
--                      row), record_audit for actions run in several batches, and the psql
--                      procedure requeue_dlq.
--   queuetop_worker    what `queuetop worker` and an embedded pool call, nothing else. It reads
--                      no table: the schedule ticker learns when to wake from
--                      schedules_next_due_s().
--   queuetop_producer  enqueue_job and enqueue_jobs, and job_status, which shows only the jobs
--                      the calling role enqueued (job_queue.enqueued_by = _caller_role(): the
--                      role chosen by SET ROLE, else the login role; 20_jobs.sql).
-- Internal helpers (names starting with `_`, trigger functions, the health fold) are called by
-- the DEFINER functions as the owner and are granted to no one unless listed.
--
-- requeue_dlq is a procedure that COMMITs after every batch: PostgreSQL forbids transaction
-- control in a SECURITY DEFINER procedure and in one with a SET clause, so it stays INVOKER and
-- gets no search_path; its body names its own schema instead (30_dlq.sql), so it works from any
-- search_path, and it calls the DEFINER batch functions, which do the writing. Being INVOKER, it
-- also calls _check_batch_size, _check_time (and through it _sane_time) and _require_queue with
-- the caller's rights: the operator may execute those.
do $$
declare
  r record;
  v_schema text := current_schema();
  v_path text := format('%I, pg_temp', current_schema());
  v_roles constant text[] := array['queuetop_viewer', 'queuetop_operator', 'queuetop_worker', 'queuetop_producer'];
  v_missing text[] := '{}';
  v_unlisted text[] := '{}';
  v_bad text[] := '{}';
  v_word text;
  v_expected jsonb := '{}';
  g oid;
begin
  if v_schema is null then
    raise exception 'no current schema: set search_path to queuetop''s schema, then pg_temp';
  end if;
  for r in
    with list(name, security, roles) as (values
    -- 10_util.sql
    ('_check_batch_size',               'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('_check_time',                     'invoker', '{queuetop_operator}'),
    ('_require_queue',                  'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('_sane_time',                      'pure',    '{queuetop_operator}'),
    ('_uuid_v7_floor',                  'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('uuid_v7',                         'pure',    '{}'),
    -- 20_jobs.sql
    ('_bucket_level',                   'pure',    '{}'),
    ('_caller_role',                    'invoker', '{}'),
    ('_claim',                          'invoker', '{}'),
    ('_claim_ids',                      'invoker', '{}'),
    ('_claim_tenants',                  'invoker', '{}'),
    ('_enqueue',                        'invoker', '{}'),
    ('_fail_jobs',                      'invoker', '{}'),
    ('_finish_cancelled_jobs',          'invoker', '{}'),
    ('_id_tail_key',                    'pure',    '{}'),
    ('_redact_userinfo',                'pure',    '{}'),
    ('_set_queue_paused',               'invoker', '{}'),
    ('backoff_delay_s',                 'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('cancel_job',                      'definer', '{queuetop_operator}'),
    ('cancel_running_job',              'definer', '{queuetop_operator}'),
    ('claim_jobs',                      'definer', '{queuetop_worker}'),
    ('complete_jobs',                   'definer', '{queuetop_worker}'),
    ('enqueue_job',                     'definer', '{queuetop_worker,queuetop_producer}'),
    ('enqueue_jobs',                    'definer', '{queuetop_worker,queuetop_producer}'),
    ('expire_jobs',                     'definer', '{queuetop_worker}'),
    ('fail_job',                        'definer', '{queuetop_worker}'),
    ('fail_jobs',                       'definer', '{queuetop_worker}'),
    ('find_job_ids',                    'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('heartbeat_jobs',                  'definer', '{queuetop_worker}'),
    ('job_ids_ending',                  'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('job_queue_ids_added',             'invoker', '{}'),
    ('job_queue_ids_moved',             'invoker', '{}'),
    ('job_queue_ids_removed',           'invoker', '{}'),
    ('job_queue_ids_truncated',         'invoker', '{}'),
    ('job_status',                      'definer', '{queuetop_viewer,queuetop_operator,queuetop_producer}'),
    ('pause_queue',                     'definer', '{queuetop_operator}'),
    ('prune_completed_jobs',            'definer', '{queuetop_operator}'),
    ('prune_jobs_batch',                'definer', '{queuetop_worker}'),
    ('queue_expired_counts',            'invoker', '{queuetop_viewer,queuetop_operator,queuetop_worker}'),
    ('queue_tenants',                   'invoker', '{queuetop_viewer,queuetop_operator,queuetop_worker}'),
    ('queues_paused_by',                'invoker', '{}'),
    ('release_jobs',                    'definer', '{queuetop_worker}'),
    ('rescue_stale_jobs',               'definer', '{queuetop_worker}'),
    ('resume_queue',                    'definer', '{queuetop_operator}'),
    ('run_queue_now',                   'definer', '{queuetop_operator}'),
    ('set_queue_concurrency',           'definer', '{queuetop_operator}'),
    ('update_queue_settings',           'definer', '{queuetop_operator}'),
    -- 25_search.sql
    ('jobs_bulk_apply',                 'definer', '{queuetop_operator}'),
    ('jobs_bulk_end',                   'definer', '{queuetop_operator}'),
    -- 30_dlq.sql
    ('_requeue_dlq',                    'invoker', '{}'),
    ('delete_dlq_batch',                'definer', '{queuetop_operator}'),
    ('delete_dlq_jobs',                 'definer', '{queuetop_operator}'),
    ('requeue_dlq',                     'invoker', '{queuetop_operator}'),
    ('requeue_dlq_batch',               'definer', '{queuetop_operator}'),
    ('requeue_dlq_job',                 'definer', '{queuetop_operator}'),
    ('requeue_dlq_jobs',                'definer', '{queuetop_operator}'),
    -- 15_triage.sql
    ('_record_error_groups',            'invoker', '{}'),
    ('_require_error_group',            'invoker', '{}'),
    ('_set_error_group_state',          'invoker', '{}'),
    ('ack_error_group',                 'definer', '{queuetop_operator}'),
    ('backfill_fingerprints',           'definer', '{}'),
    ('dlq_error_groups',                'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('error_fingerprint',               'invoker', '{queuetop_viewer,queuetop_operator,queuetop_worker}'),
    ('error_group_regressed',           'invoker', '{}'),
    ('error_pattern',                   'pure',    '{queuetop_viewer,queuetop_operator,queuetop_worker}'),
    ('reopen_error_group',              'definer', '{queuetop_operator}'),
    ('resolve_error_group',             'definer', '{queuetop_operator}'),
    ('snooze_error_group',              'definer', '{queuetop_operator}'),
    ('undo_requeue',                    'definer', '{queuetop_operator}'),
    -- 40_health.sql
    ('health_breakdown',                'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('health_bucket',                   'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('health_bucket_value',             'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('health_fold',                     'definer', '{}'),
    ('health_forecast',                 'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('health_hist_counts',              'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('health_hist_merge',               'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('health_hist_sum',                 'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('health_interpolate',              'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('health_job_queue_trigger',        'invoker', '{}'),
    ('health_job_queue_truncated',      'invoker', '{}'),
    ('health_latency',                  'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('health_latency_relative_error',   'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('health_oldest_pending_seconds',   'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('health_prune',                    'definer', '{}'),
    ('health_queue_types',              'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('health_rebuild',                  'definer', '{}'),
    ('health_record_changes',           'invoker', '{}'),
    ('health_ts',                       'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('health_type_entry',               'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('queue_health_snapshot',           'definer', '{queuetop_viewer,queuetop_operator}'),
    -- 50_bulk_operations.sql
    ('_bulk_cancel',                    'invoker', '{}'),
    ('_bulk_run_locked_batch',          'invoker', '{}'),
    ('bulk_operation_kinds_check',      'invoker', '{}'),
    ('cancel_bulk_operation',           'definer', '{queuetop_operator}'),
    ('prune_bulk_operations',           'definer', '{queuetop_worker}'),
    ('run_bulk_operation_batch',        'definer', '{queuetop_worker}'),
    ('run_next_bulk_operation_batch',   'definer', '{queuetop_worker}'),
    -- 55_leads.sql
    ('_lead_migration_check_target',    'invoker', '{}'),
    ('_lead_migration_move',            'invoker', '{}'),
    ('cancel_lead_migration',           'definer', '{queuetop_operator}'),
    ('get_lead_migration_queue_status', 'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('lead_migration_step',             'invoker', '{}'),
    ('process_lead_migration_batch',    'definer', '{queuetop_worker}'),
    ('queue_lead_migration',            'definer', '{queuetop_operator}'),
    -- 60_workers.sql
    ('claim_maintenance',               'definer', '{queuetop_worker}'),
    ('deregister_worker',               'definer', '{queuetop_worker}'),
    ('drain_workers',                   'definer', '{queuetop_operator}'),
    ('quiet_workers',                   'definer', '{queuetop_operator}'),
    ('resume_workers',                  'definer', '{queuetop_operator}'),
    ('_command_workers',                'invoker', '{}'),
    ('maintenance_progress',            'definer', '{queuetop_worker}'),
    ('prune_workers',                   'definer', '{queuetop_operator}'),
    ('record_handler_backends',         'definer', '{queuetop_worker}'),
    ('register_worker',                 'definer', '{queuetop_worker}'),
    ('set_circuit_breaker',             'definer', '{queuetop_worker}'),
    ('worker_cancel_requests',          'definer', '{queuetop_worker}'),
    ('worker_heartbeat',                'definer', '{queuetop_worker}'),
    ('worker_queue_settings',           'definer', '{queuetop_viewer,queuetop_operator,queuetop_worker}'),
    ('worker_silence_limit',            'pure',    '{queuetop_viewer,queuetop_operator,queuetop_worker}'),
    -- 70_schedules.sql
    ('_require_schedule',               'invoker', '{}'),
    ('create_schedule',                 'definer', '{queuetop_operator}'),
    ('delete_schedule',                 'definer', '{queuetop_operator}'),
    ('disable_broken_schedule',         'definer', '{queuetop_worker}'),
    ('fire_schedule',                   'definer', '{queuetop_worker}'),
    ('lock_due_schedules',              'definer', '{queuetop_worker}'),
    ('run_schedule_now',                'definer', '{queuetop_operator}'),
    ('schedules_next_due_s',            'definer', '{queuetop_worker}'),
    ('set_schedule_enabled',            'definer', '{queuetop_operator}'),
    -- 75_alerts.sql
    ('_alert_rows',                     'invoker', '{}'),
    ('_queue_alert_notifications',      'invoker', '{}'),
    ('add_alert_hook',                  'definer', '{queuetop_operator}'),
    ('alert_history_retention',         'pure',    '{queuetop_viewer,queuetop_operator,queuetop_worker}'),
    ('claim_alert_notifications',       'definer', '{queuetop_worker}'),
    ('record_alert_delivery',           'definer', '{queuetop_worker}'),
    ('remove_alert_hook',               'definer', '{queuetop_operator}'),
    ('sync_alert_states',               'definer', '{queuetop_worker}'),
    -- 85_timeline.sql
    ('_record_alert_events',            'invoker', '{}'),
    ('_audit_summary',                  'invoker', '{queuetop_viewer,queuetop_operator}'),
    ('_uuid_or_null',                   'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('mark_event',                      'definer', '{queuetop_operator,queuetop_producer}'),
    ('timeline',                        'invoker', '{queuetop_viewer,queuetop_operator}'),
    -- 80_audit.sql
    ('_audit_add',                      'invoker', '{}'),
    ('_audit_check',                    'invoker', '{}'),
    ('_audit_ids',                      'pure',    '{queuetop_viewer,queuetop_operator}'),
    ('audit_log_append_only',           'invoker', '{}'),
    ('record_audit',                    'definer', '{queuetop_operator}')
    ), listed as (
      select name, min(security) as security, min(roles)::text[] as roles, count(*) as dups
      from list group by name
    ), fns as (
      select p.oid, p.oid::regprocedure as f, p.oid::regprocedure::text as sig, p.proname::text as name,
             p.prokind, p.proowner, p.proacl, p.prosrc, p.prolang
      from pg_proc p
      where p.pronamespace = v_schema::regnamespace
        -- an extension's own functions (if one was installed into this schema) are not queuetop's
        and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass
                        and d.objid = p.oid and d.deptype = 'e')
    )
    -- A row naming one overload, e.g. 'claim_jobs(text,text[],integer)', wins over the row
    -- naming all overloads of that name.
    select coalesce(o.name, n.name) as listed, coalesce(o.security, n.security) as security,
           coalesce(o.roles, n.roles) as roles, coalesce(o.dups, n.dups) as dups,
           f.oid, f.f, f.prokind, f.proowner, f.proacl, f.prosrc, f.prolang
    from fns f
    left join listed o on o.name = f.sig
    left join listed n on n.name = f.name
    union all
    select l.name, l.security, l.roles, l.dups, null, null, null, null, null, null, null
    from listed l
    where not exists (select 1 from fns f where l.name in (f.name, f.sig))
    order by 1, 6
  loop
    if r.oid is null then
      v_missing := v_missing || r.listed;
      continue;
    elsif r.listed is null then
      v_unlisted := v_unlisted || r.f::text;
      continue;
    elsif r.dups > 1 or r.security not in ('definer', 'invoker', 'pure') or not (r.roles <@ v_roles)
          or r.prokind not in ('f', 'p') or (r.prokind = 'p' and r.security <> 'invoker') then
      v_bad := v_bad || r.f::text;
      continue;
    end if;
    v_word := case r.prokind when 'p' then 'procedure' else 'function' end;

    if r.security = 'pure' then
      -- A pure helper: LANGUAGE sql (the only kind PostgreSQL inlines), and a body that names no
      -- relation, type or other function of this schema (a word-for-word check of its text).
      select string_agg(distinct x.n, ', ') into v_word
      from (select c.relname::text as n from pg_class c where c.relnamespace = v_schema::regnamespace
            union select t.typname::text from pg_type t where t.typnamespace = v_schema::regnamespace
            union select p.proname::text from pg_proc p
                  where p.pronamespace = v_schema::regnamespace and p.oid <> r.oid) x
      where r.prosrc ~ ('\m' || x.n || '\M');
      if v_word is not null or r.prolang <> (select oid from pg_language where lanname = 'sql') then
        raise exception 'repeatable/90_privileges.sql: % is listed as pure, but %', r.f,
          coalesce('its body names ' || v_word || ' of schema ' || v_schema, 'it is not LANGUAGE sql')
          using hint = 'A pure helper uses only its arguments and pg_catalog; list it as invoker otherwise.';
      end if;
      execute format('alter function %s security invoker', r.f);
      execute format('alter function %s reset search_path', r.f);
    else
      execute format('alter %s %s security %s', v_word, r.f, r.security);
      if r.prokind = 'f' then
        execute format('alter function %s set search_path = %s', r.f, v_path);
      end if;
    end if;
    v_word := case r.prokind when 'p' then 'procedure' else 'function' end;

    -- The ACL from scratch: nothing for PUBLIC or for any role but the owner, then the list.
    execute format('revoke all on %s %s from public', v_word, r.f);
    for g in select distinct a.grantee from aclexplode(r.proacl) a
             where a.grantee <> r.proowner and a.grantee <> 0 loop
      execute format('revoke all on %s %s from %I cascade', v_word, r.f, pg_get_userbyid(g));
    end loop;
    v_expected := v_expected || jsonb_build_object(r.oid::text, to_jsonb(r.roles));
    if cardinality(r.roles) > 0 then
      execute format('grant execute on %s %s to %s', v_word, r.f,
                     (select string_agg(quote_ident(x), ', ') from unnest(r.roles) x));
    end if;
  end loop;

  -- Raising rolls back the whole transaction: every repeatable file, not just this one.
  if cardinality(v_unlisted) > 0 or cardinality(v_missing) > 0 or cardinality(v_bad) > 0 then
    raise exception 'repeatable/90_privileges.sql does not match schema %', v_schema
      using detail = concat_ws(E'\n',
        case when cardinality(v_unlisted) > 0 then 'in the schema, not in the list: ' || array_to_string(v_unlisted, ', ') end,
        case when cardinality(v_missing) > 0 then 'in the list, not in the schema: ' || array_to_string(v_missing, ', ') end,
        case when cardinality(v_bad) > 0 then 'listed twice, or with an unknown security or role (procedures are invoker): '
                                              || array_to_string(v_bad, ', ') end),
        hint = 'Every function and procedure of the schema has exactly one row in 90_privileges.sql: add the new one, remove the dropped one.';
  end if;

  -- The catalog now says what the list says. (A grant made by a role other than the owner, or
  -- with GRANT OPTION, could in principle survive the revokes above: it would show up here.)
  select string_agg(x.f, ', ') into v_word
  from (select p.oid::regprocedure::text as f
        from pg_proc p
        where p.oid::text in (select jsonb_object_keys(v_expected))
          and (select coalesce(array_agg(y.g order by y.g), '{}')
               from (select case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee)::text end
                            || case when a.privilege_type <> 'EXECUTE' or a.is_grantable then '*' else '' end as g
                     from aclexplode(p.proacl) a where a.grantee <> p.proowner) y)
              is distinct from
              (select coalesce(array_agg(x order by x), '{}') from jsonb_array_elements_text(v_expected -> p.oid::text) x)) x;
  if v_word is not null then
    raise exception 'EXECUTE privileges differ from 90_privileges.sql after the reset: %', v_word;
  end if;
end $$;

-- ---------------------------------------------------------------------------------------------
-- Tables, views and sequences: no write privilege for any role (writes go through the DEFINER
-- functions above). The viewer and the operator read every table and view, except the
-- application's own lead tables (the lead-migration views show their progress); the worker and
-- the producer read nothing directly: the functions return what they need.
-- The schema: USAGE for the four roles, nothing for PUBLIC.
-- No default privileges are set: a table added later is readable because this file runs again.
do $$
declare
  r record;
  g oid;
  v_schema text := current_schema();
begin
  for r in select c.oid::regclass as t, c.relkind, c.relname, c.relowner, c.relacl
           from pg_class c
           where c.relnamespace = v_schema::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
             and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                             and d.objid = c.oid and d.deptype = 'e')
           order by c.relname loop
    if r.relkind = 'S' then
      execute format('revoke all on sequence %s from public', r.t);
    else
      execute format('revoke all on table %s from public', r.t);
    end if;
    for g in select distinct a.grantee from aclexplode(r.relacl) a
             where a.grantee <> r.relowner and a.grantee <> 0 loop
      execute format('revoke all on %s %s from %I cascade',
                     case when r.relkind = 'S' then 'sequence' else 'table' end, r.t, pg_get_userbyid(g));
    end loop;
    if r.relkind <> 'S' and r.relname not in ('leads', 'funnels', 'funnel_columns', 'extraction_runs') then
      execute format('grant select on table %s to queuetop_viewer, queuetop_operator', r.t);
    end if;
  end loop;

  -- The schema is queuetop's own (docs/SQL_LAYOUT.md); `public` is left as it is if someone
  -- installs there, since taking PUBLIC's USAGE away would break everything else in it.
  if v_schema <> 'public' then
    execute format('revoke all on schema %I from public', v_schema);
  end if;
  execute format('grant usage on schema %I to queuetop_viewer, queuetop_operator, queuetop_worker, queuetop_producer',
                 v_schema);
end $$;

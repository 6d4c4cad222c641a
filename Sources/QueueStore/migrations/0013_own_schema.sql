-- 0013 — queuetop gets a schema of its own (docs/SQL_LAYOUT.md).
--
-- Until 0012 every object was created in whatever schema came first on the installer's
-- search_path: `public` for almost everyone, and on Supabase `public` is exposed to the anonymous
-- web role with default privileges that grant it ALL on every new table and function. From here
-- on everything lives in one schema, `queuetop` unless the installer chose another
-- (`queuetop migrate --schema NAME`, or `select set_config('queuetop.schema', 'NAME', true)`
-- before pasting the install script).
--
-- A fresh install runs 0001–0012 in the target schema already, so this file finds nothing to
-- move. An install from before this file lives in the schema these files ran in: its tables,
-- views, composite types and functions are moved with ALTER … SET SCHEMA, which keeps every row,
-- index, trigger, sequence, default and dependency, and takes only brief locks. The function
-- bodies and their privileges are then replaced by the repeatable files (migrations/repeatable/),
-- which `queuetop migrate` applies in the same transaction as this file, so a worker never sees a
-- moved function with its old search_path.
--
-- Objects are named one by one: the source schema (usually `public`) also holds the
-- application's own objects, and nothing here touches those.

do $$
declare
  v_target text := coalesce(nullif(current_setting('queuetop.schema', true), ''), 'queuetop');
  v_source text := current_schema();
  v_tables text[] := array[
      'queues', 'queue_rate_buckets', 'job_queue', 'job_attempts',
      'audit_log', 'workers', 'circuit_breakers', 'bulk_operation_kinds',
      'bulk_operations', 'extraction_runs', 'funnels', 'funnel_columns',
      'leads', 'queue_counts', 'queue_count_deltas', 'queue_event_deltas',
      'queue_error_deltas', 'queue_stats_minute', 'queue_stats_hour', 'queue_latency_minute',
      'queue_errors_hour', 'queue_error_latest', 'queue_latency_recent', 'health_settings',
      'maintenance_tasks', 'schedules', 'alert_hooks', 'alert_states',
      'alert_notifications', 'alert_deliveries', 'alert_sync', 'tenant_rate_buckets'];
  v_views text[] := array[
      'bulk_operation_progress', 'lead_migration_progress', 'queue_status_counts', 'queue_stats_minutely',
      'queue_stats_hourly', 'queue_latency_histogram', 'queue_errors_hourly', 'queue_throughput_hourly',
      'queue_error_types', 'queue_latency', 'queue_health', 'worker_registry'];
  v_types text[] := array[
      'bulk_step_result', 'bulk_batch_result', 'health_change', 'maintenance_claim'];
  v_functions text[] := array[
      '_alert_rows(alerts jsonb)',
      '_audit_add(audit_id bigint, p_action text, p_filter jsonb, n bigint)',
      '_audit_ids(ids uuid[])',
      '_bucket_level(tokens double precision, refilled_at timestamp with time zone, rate numeric, at timestamp with time zone)',
      '_bulk_cancel(p_operation_id bigint)',
      '_bulk_run_locked_batch(v_op bulk_operations, p_batch_size integer)',
      '_check_batch_size(n integer, what text)',
      '_claim(worker text, queue_names text[], max_jobs integer, untenanted_only boolean)',
      '_claim_ids(worker text, ids uuid[])',
      '_claim_tenants(worker text, q queues, max_jobs integer)',
      '_enqueue(p_queues text[], p_types text[], p_payloads jsonb[], p_priorities integer[], p_run_ats timestamp with time zone[], p_dedup_keys text[], p_max_attempts integer[], p_unique_for_s integer[], p_expires_ats timestamp with time zone[], p_tenants text[])',
      '_fail_jobs(mode text, worker text, ids uuid[], messages text[], error_types text[], details jsonb[], retryable boolean[], retry_after_s integer[])',
      '_lead_migration_check_target(p_run_id uuid, p_funnel_id uuid, p_column_id uuid)',
      '_lead_migration_move(p_ids uuid[], p_run uuid, p_funnel uuid, p_column uuid)',
      '_queue_alert_notifications(p_event text, p_keys text[], p_alerts jsonb[], p_at timestamp with time zone)',
      '_requeue_dlq(ids uuid[], reset_attempts boolean)',
      '_require_queue(queue_name text)',
      '_require_schedule(p_name text)',
      '_set_queue_paused(queue_name text, pause boolean)',
      '_uuid_v7_floor(t timestamp with time zone)',
      'add_alert_hook(p_name text, p_url text, p_secret_header text, p_secret_env text, p_secret_prefix text)',
      'alert_history_retention()',
      'audit_log_append_only()',
      'backoff_delay_s(base_s integer, cap_s integer, schedule_s integer[], attempt integer)',
      'bulk_operation_kinds_check()',
      'cancel_bulk_operation(p_operation_id bigint)',
      'cancel_job(job_id uuid)',
      'cancel_lead_migration(p_run_id uuid)',
      'claim_alert_notifications(max_rows integer, lease_s integer)',
      'claim_jobs(worker_id text, queues text[], max_jobs integer)',
      'claim_maintenance(task text, worker_id text)',
      'complete_jobs(worker_id text, ids uuid[], processing_ms integer[], results jsonb[])',
      'create_schedule(p_name text, p_cron text, p_queue text, p_job_type text, p_payload jsonb, p_priority integer, p_next_run_at timestamp with time zone)',
      'delete_dlq_batch(queue text, error_type text, as_of timestamp with time zone, batch_size integer, audit_id bigint)',
      'delete_dlq_jobs(ids uuid[])',
      'delete_schedule(p_name text)',
      'deregister_worker(worker_id text)',
      'disable_broken_schedule(p_name text, p_reason text)',
      'drain_workers(worker_id text, host text)',
      'enqueue_job(queue text, job_type text, payload jsonb, priority integer, run_at timestamp with time zone, dedup_key text, max_attempts integer, unique_for_s integer, expires_at timestamp with time zone, tenant text)',
      'enqueue_jobs(jobs jsonb)',
      'expire_jobs(max_jobs integer)',
      'fail_job(job_id uuid, error_message text, error_type text, error_details jsonb, is_retryable boolean)',
      'fail_jobs(worker_id text, ids uuid[], messages text[], error_types text[], details jsonb[], retryable boolean[], retry_after_s integer[])',
      'fire_schedule(p_name text, p_tick_at timestamp with time zone, p_missed integer, p_next_run_at timestamp with time zone)',
      'get_lead_migration_queue_status()',
      'health_bucket(ms integer)',
      'health_bucket_value(bucket smallint)',
      'health_fold()',
      'health_job_queue_trigger()',
      'health_job_queue_truncated()',
      'health_latency(q text, since timestamp with time zone, OUT p50 double precision, OUT p95 double precision, OUT p99 double precision, OUT avg_ms double precision, OUT max_ms integer, OUT samples bigint)',
      'health_latency_relative_error()',
      'health_oldest_pending_seconds(q text)',
      'health_prune(older_than interval)',
      'health_rebuild(rollups boolean)',
      'health_record_changes(changes health_change[])',
      'health_ts(t timestamp with time zone)',
      'heartbeat_jobs(worker_id text, ids uuid[])',
      'lead_migration_step(op bulk_operations, p_batch_size integer)',
      'lock_due_schedules(max_rows integer)',
      'maintenance_progress(task text, worker_id text, jobs_pruned bigint, operations_pruned bigint, finished boolean)',
      'pause_queue(queue_name text)',
      'process_lead_migration_batch(p_batch_size integer)',
      'prune_bulk_operations(older_than_s integer, batch_size integer)',
      'prune_completed_jobs(batch_size integer)',
      'prune_jobs_batch(after_id uuid, batch_size integer)',
      'prune_workers(older_than interval)',
      'queue_expired_counts(queue_names text[])',
      'queue_health_snapshot()',
      'queue_lead_migration(p_run_id uuid, p_funnel_id uuid, p_column_id uuid, p_batch_size integer)',
      'queue_tenants(queue_name text, max_tenants integer)',
      'record_alert_delivery(p_notification_id bigint, p_ok boolean, p_http_status integer, p_error text, p_duration_ms integer, max_attempts integer)',
      'record_audit(action text, filter jsonb, affected bigint)',
      'register_worker(worker_id text, host text, pid integer, queues text[], concurrency integer)',
      'release_jobs(worker_id text, ids uuid[])',
      'remove_alert_hook(p_name text)',
      'requeue_dlq(IN queue text, IN error_type text, IN reset_attempts boolean, IN as_of timestamp with time zone, IN batch_size integer, INOUT requeued bigint)',
      'requeue_dlq_batch(queue text, error_type text, reset_attempts boolean, as_of timestamp with time zone, batch_size integer, audit_id bigint)',
      'requeue_dlq_job(job_id uuid, reset_attempts boolean)',
      'requeue_dlq_jobs(ids uuid[], reset_attempts boolean)',
      'rescue_stale_jobs(max_jobs integer)',
      'resume_queue(queue_name text)',
      'run_bulk_operation_batch(p_operation_id bigint, p_batch_size integer)',
      'run_next_bulk_operation_batch(p_kind text, p_batch_size integer)',
      'run_queue_now(queue_name text)',
      'run_schedule_now(p_name text)',
      'set_circuit_breaker(queue_name text, new_state text, failures integer, reopen_at timestamp with time zone)',
      'set_queue_concurrency(queue_name text, concurrency_limit integer)',
      'set_schedule_enabled(p_name text, p_enabled boolean, p_next_run_at timestamp with time zone)',
      'sync_alert_states(min_interval_s double precision)',
      'update_queue_settings(queue_name text, settings jsonb)',
      'uuid_v7()',
      'worker_heartbeat(worker_id text, in_flight integer)',
      'worker_queue_settings(queue_names text[])'];
  v_name text;
  v_oid oid;
begin
  if v_source is null then
    raise exception 'no current schema to install into or move from'
      using hint = 'Set search_path to the schema that holds queuetop (public for installs before 0013).';
  end if;
  if v_target = v_source then
    return;  -- installed in the target schema from the start: nothing to move
  end if;
  if v_target !~ '^[a-z_][a-z0-9_]*$' or length(v_target) > 63 then
    raise exception 'queuetop.schema must be a plain lower-case identifier, not %', quote_literal(v_target);
  end if;
  if to_regclass(format('%I.job_queue', v_target)) is not null then
    raise exception 'schema % already holds a queuetop install; refusing to move the one in % onto it',
      v_target, v_source
      using hint = 'Choose another schema with queuetop.schema, or drop the other install first.';
  end if;
  execute format('create schema if not exists %I', v_target);

  -- Functions first: their identities name argument types (bulk_operations, health_change)
  -- as they print while those types are still in the source schema.
  for v_oid in
    select p.oid from pg_proc p
     where p.pronamespace = v_source::regnamespace
       and format('%s(%s)', p.proname, pg_get_function_identity_arguments(p.oid)) = any (v_functions)
  loop
    execute format('alter routine %s set schema %I', v_oid::regprocedure, v_target);
  end loop;

  -- The bookkeeping table moves too, so the records stay with what they describe.
  if to_regclass(format('%I.schema_migrations', v_source)) is not null then
    execute format('alter table %I.schema_migrations set schema %I', v_source, v_target);
  end if;
  foreach v_name in array v_tables loop
    if to_regclass(format('%I.%I', v_source, v_name)) is not null then
      execute format('alter table %I.%I set schema %I', v_source, v_name, v_target);
    end if;
  end loop;
  foreach v_name in array v_views loop
    if to_regclass(format('%I.%I', v_source, v_name)) is not null then
      execute format('alter view %I.%I set schema %I', v_source, v_name, v_target);
    end if;
  end loop;
  foreach v_name in array v_types loop
    if to_regtype(format('%I.%I', v_source, v_name)) is not null then
      execute format('alter type %I.%I set schema %I', v_source, v_name, v_target);
    end if;
  end loop;

  -- 0007 also revoked EXECUTE from PUBLIC on every function then in the source schema, which
  -- took extension functions (pg_trgm's similarity, pgcrypto's gen_random_bytes) away from the
  -- application's roles. An extension's functions are created callable by PUBLIC, so where one
  -- still carries exactly the owner-only ACL 0007 left, PUBLIC gets EXECUTE back. The
  -- application's own functions cannot be told apart from ones it restricted on purpose: they
  -- are left as they are (docs/SQL_LAYOUT.md, "Upgrading an install in public").
  for v_oid in
    select p.oid from pg_proc p
      join pg_depend d on d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
     where p.pronamespace = v_source::regnamespace
       and p.proacl = array[format('%s=X/%s', p.proowner::regrole, p.proowner::regrole)]::aclitem[]
  loop
    begin
      execute format('grant execute on routine %s to public', v_oid::regprocedure);
    exception when insufficient_privilege then
      null;  -- owned by a role this installer cannot grant for; it left it as it found it
    end;
  end loop;
end $$;

-- 0007 set two default privileges for the installing role. Both reached beyond queuetop:
--   * EXECUTE revoked from PUBLIC on every function the role creates later, in any schema, so
--     the application's own new functions stopped working for its other roles;
--   * SELECT for queuetop_viewer and queuetop_operator on every table the role creates later in
--     the install schema — with `public`, every new application table was readable by viewers.
-- Privileges are now declared object by object (repeatable/90_privileges.sql), so both go. Each
-- is undone only while it is exactly what 0007 left, never a setting the owner made since.
do $$
declare
  v_role oid := (select oid from pg_roles where rolname = current_user);
begin
  if exists (select 1 from pg_default_acl d
              where d.defaclrole = v_role and d.defaclnamespace = 0 and d.defaclobjtype = 'f'
                and d.defaclacl = array[format('%s=X/%s', quote_ident(current_user), quote_ident(current_user))]::aclitem[]) then
    alter default privileges grant execute on functions to public;
  end if;
  if exists (select 1 from pg_default_acl d
              where d.defaclrole = v_role and d.defaclnamespace = current_schema()::regnamespace
                and d.defaclobjtype = 'r'
                and (select array_agg(a.grantee::regrole::text order by a.grantee::regrole::text)
                       from aclexplode(d.defaclacl) a where a.privilege_type = 'SELECT')
                    = array['queuetop_operator', 'queuetop_viewer']) then
    execute format('alter default privileges in schema %I revoke select on tables from queuetop_viewer, queuetop_operator',
                   current_schema());
  end if;
end $$;

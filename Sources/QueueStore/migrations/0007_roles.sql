-- 0007 — least-privilege roles: queuetop_viewer, queuetop_operator, queuetop_worker.
--
-- Three NOLOGIN group roles. Give a person or a service a LOGIN role that is a member of one:
--   CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE queuetop_operator;
-- The role matrix and the reasons are in docs/RELIABILITY.md.
--
-- Why the writing functions become SECURITY DEFINER (the brief said keep INVOKER without a
-- reason; this is the reason): with INVOKER functions every role that calls requeue_dlq_jobs or
-- claim_jobs would need UPDATE on job_queue itself, and then it could change any row with a raw
-- UPDATE — a worker could requeue the DLQ, an operator could skip the audit trail. As DEFINER,
-- roles get no write privilege on any table: the only way to change a job is a function that
-- checks its input and writes the audit row. Each such function gets a fixed search_path
-- (schema, then pg_temp) so a caller cannot shadow the tables or functions it uses. Audit rows
-- still name the caller: audit_log.db_role defaults to session_user, which DEFINER does not change.
-- Read-only functions stay INVOKER: they run with the caller's SELECT privileges.
--
-- NOTE for later migrations: CREATE OR REPLACE FUNCTION resets SECURITY DEFINER and SET
-- search_path to what the new text says. Repeat both when replacing a function listed below,
-- and GRANT EXECUTE on any new public function to the roles that need it (functions created by
-- the migration owner no longer get EXECUTE for PUBLIC by default, see the end of this file).

-- Roles are cluster-wide and a cluster may already have them (another database of the same
-- cluster migrated first, possibly at this very moment): create each only when missing, and
-- treat losing that race as success.
do $$
declare r text;
begin
  foreach r in array array['queuetop_viewer', 'queuetop_operator', 'queuetop_worker'] loop
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
-- Nothing for PUBLIC: PostgreSQL grants EXECUTE on every new function to PUBLIC, which would
-- let any login role of the cluster call requeue_dlq_jobs. Only the owner (and superusers) keep
-- everything; the roles get exactly what is granted below.
do $$
begin
  execute format('revoke all on all functions in schema %I from public', current_schema());
  execute format('revoke all on all procedures in schema %I from public', current_schema());
  execute format('revoke all on all tables in schema %I from public', current_schema());
  execute format('revoke all on all sequences in schema %I from public', current_schema());
  execute format('grant usage on schema %I to queuetop_viewer, queuetop_operator, queuetop_worker',
                 current_schema());
end $$;

-- ---------------------------------------------------------------------------------------------
-- Writing functions: DEFINER with a pinned search_path. Every overload of each name, so a later
-- migration that changes a signature before this one ran is covered too. Names a migration
-- does not have (yet) are skipped.
create function _roles_functions(names text[]) returns setof regprocedure
language sql stable as $$
  select p.oid::regprocedure from pg_proc p
  where p.pronamespace = current_schema()::regnamespace and p.proname = any(names) and p.prokind = 'f'
$$;

create function _roles_grant(names text[], grantee text) returns void
language plpgsql as $$
declare f regprocedure;
begin
  for f in select * from _roles_functions(names) loop
    execute format('grant execute on function %s to %I', f, grantee);
  end loop;
end $$;

do $$
declare f regprocedure;
begin
  for f in select * from _roles_functions(array[
    -- operator actions (each writes audit_log itself)
    'requeue_dlq_job', 'requeue_dlq_jobs', 'requeue_dlq_batch', 'delete_dlq_jobs', 'delete_dlq_batch',
    'cancel_job', 'update_queue_settings', 'pause_queue', 'resume_queue', 'set_queue_concurrency',
    'run_queue_now', 'drain_workers', 'queue_lead_migration', 'cancel_lead_migration',
    'cancel_bulk_operation', 'record_audit', 'prune_completed_jobs', 'prune_workers',
    -- the worker's hot path, registry and batch runners
    'claim_jobs', 'complete_jobs', 'fail_jobs', 'fail_job', 'release_jobs', 'heartbeat_jobs',
    'rescue_stale_jobs', 'enqueue_job', 'enqueue_jobs', 'register_worker', 'worker_heartbeat',
    'deregister_worker', 'worker_queue_settings', 'set_circuit_breaker', 'run_bulk_operation_batch',
    'run_next_bulk_operation_batch', 'process_lead_migration_batch',
    -- retention run by whichever worker wins claim_maintenance (0005_maintenance)
    'claim_maintenance', 'maintenance_progress', 'prune_jobs_batch', 'prune_bulk_operations']) loop
    execute format('alter function %s security definer set search_path = %I, pg_temp', f, current_schema());
  end loop;
end $$;

-- ---------------------------------------------------------------------------------------------
-- queuetop_viewer: reads what the dashboard shows. SELECT on queuetop's tables and views (not the
-- application's own lead tables: the lead-migration views show their progress), EXECUTE on the
-- read functions. Every non-volatile function is safe to grant: PostgreSQL refuses data changes
-- inside a STABLE or IMMUTABLE function.
do $$
declare t regclass; f regprocedure;
begin
  for t in select c.oid::regclass from pg_class c
           where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'v', 'm', 'p')
             and c.relname not in ('leads', 'funnels', 'funnel_columns', 'extraction_runs') loop
    execute format('grant select on %s to queuetop_viewer, queuetop_operator', t);
  end loop;
  for f in select p.oid::regprocedure from pg_proc p
           where p.pronamespace = current_schema()::regnamespace and p.prokind = 'f'
             and p.provolatile <> 'v' and p.proname not like '\_roles\_%' loop
    execute format('grant execute on function %s to queuetop_viewer, queuetop_operator', f);
  end loop;
end $$;
-- The dashboard's one-round-trip refresh (SECURITY DEFINER since 0003: it folds the health
-- rollups as the owner).
select _roles_grant(array['queue_health_snapshot', 'get_lead_migration_queue_status'], 'queuetop_viewer');
select _roles_grant(array['queue_health_snapshot', 'get_lead_migration_queue_status'], 'queuetop_operator');

-- queuetop_operator: the viewer's reads plus the operator actions, the audit insert for actions
-- run in several batches, and the psql procedure that requeues a DLQ group batch by batch
-- (a procedure that COMMITs cannot be SECURITY DEFINER; it calls the DEFINER functions above).
select _roles_grant(array[
  'requeue_dlq_job', 'requeue_dlq_jobs', 'requeue_dlq_batch', 'delete_dlq_jobs', 'delete_dlq_batch',
  'cancel_job', 'update_queue_settings', 'pause_queue', 'resume_queue', 'set_queue_concurrency',
  'run_queue_now', 'drain_workers', 'queue_lead_migration', 'cancel_lead_migration',
  'cancel_bulk_operation', 'record_audit', 'prune_completed_jobs', 'prune_workers'], 'queuetop_operator');
do $$
declare p regprocedure;
begin
  for p in select oid::regprocedure from pg_proc
           where pronamespace = current_schema()::regnamespace and proname = 'requeue_dlq' and prokind = 'p' loop
    execute format('grant execute on procedure %s to queuetop_operator', p);
  end loop;
end $$;

-- queuetop_worker: what `queuetop worker` and an embedded pool call, nothing else. No SELECT on
-- the tables: the functions return what the pool needs.
select _roles_grant(array[
  'claim_jobs', 'complete_jobs', 'fail_jobs', 'fail_job', 'release_jobs', 'heartbeat_jobs',
  'rescue_stale_jobs', 'enqueue_job', 'enqueue_jobs', 'register_worker', 'worker_heartbeat',
  'deregister_worker', 'worker_queue_settings', 'set_circuit_breaker', 'run_bulk_operation_batch',
  'run_next_bulk_operation_batch', 'process_lead_migration_batch',
  'claim_maintenance', 'maintenance_progress', 'prune_jobs_batch', 'prune_bulk_operations'], 'queuetop_worker');

-- ---------------------------------------------------------------------------------------------
-- Audit rows are append-only for everyone but the owner. No role above has UPDATE, DELETE or
-- TRUNCATE on audit_log; this trigger also stops a role that is granted them later by mistake.
-- The owner may still edit (the batch functions add each batch's count to their action's row,
-- running as the owner through SECURITY DEFINER), and so may a superuser, who could drop the
-- trigger anyway.
create function audit_log_append_only() returns trigger
language plpgsql as $$
begin
  if current_user <> (select pg_get_userbyid(relowner) from pg_class where oid = TG_RELID)
     and not (select rolsuper from pg_roles where rolname = current_user) then
    raise exception 'audit_log rows cannot be changed or deleted (% by %)', TG_OP, current_user
      using errcode = '42501', hint = 'The audit trail is append-only; only its owner may maintain it.';
  end if;
  return case when TG_OP = 'DELETE' then old else new end;
end $$;
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();
revoke all on function audit_log_append_only() from public;

-- Later migrations: new functions are not callable by PUBLIC (grant them explicitly), new tables
-- and views are readable by the viewer and operator roles (the dashboard reads what is added).
do $$
begin
  execute 'alter default privileges revoke execute on functions from public';
  execute format('alter default privileges in schema %I grant select on tables to queuetop_viewer, queuetop_operator',
                 current_schema());
end $$;

drop function _roles_grant(text[], text);
drop function _roles_functions(text[]);

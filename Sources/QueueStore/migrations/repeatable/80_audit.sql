-- Audit: every operator action, whoever ran it (CLI, dashboard, raw RPC), and the trigger that
-- keeps audit_log append-only.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- Records one operator action and tells dashboards to refresh. Returns the audit row id, so a
-- client that runs an action in many batches can pass it on and keep one row per action.
create or replace function record_audit(action text, filter jsonb, affected bigint) returns bigint
language plpgsql as $$
declare v_id bigint;
begin
  insert into audit_log (action, filter, affected)
  values (record_audit.action, coalesce(record_audit.filter, '{}'), coalesce(record_audit.affected, 0))
  returning id into v_id;
  perform pg_notify('queuetop_changed', record_audit.action);
  return v_id;
end $$;

-- Adds a batch's count to an open audit row (from record_audit), or records the batch on its
-- own when no row was opened (a raw RPC call).
create or replace function _audit_add(audit_id bigint, p_action text, p_filter jsonb, n bigint) returns void
language plpgsql as $$
begin
  if audit_id is null then
    perform record_audit(p_action, p_filter, n);
    return;
  end if;
  update audit_log set affected = affected + n where id = audit_id and action = p_action;
  if not found then
    raise exception 'audit row % is not an open "%" action', audit_id, p_action
      using errcode = '22023', hint = 'Pass the id returned by record_audit for this action, or null.';
  end if;
  if n > 0 then perform pg_notify('queuetop_changed', p_action); end if;
end $$;

-- A filter's id list goes into the audit row in full up to 1000 ids; beyond that the count.
create or replace function _audit_ids(ids uuid[]) returns jsonb
language sql immutable as $$
  select case when cardinality(ids) <= 1000 then jsonb_build_object('ids', to_jsonb(ids))
              else jsonb_build_object('ids_count', cardinality(ids), 'ids_head', to_jsonb(ids[1:1000])) end
$$;

-- =============================================================================================
-- Append-only

-- Audit rows are append-only for everyone but the owner. No queuetop role has UPDATE, DELETE or
-- TRUNCATE on audit_log; this trigger also stops a role that is granted them later by mistake.
-- The owner may still edit (the batch functions add each batch's count to their action's row,
-- running as the owner through SECURITY DEFINER), and so may a superuser, who could drop the
-- trigger anyway.
create or replace function audit_log_append_only() returns trigger
language plpgsql as $$
begin
  if current_user <> (select pg_get_userbyid(relowner) from pg_class where oid = TG_RELID)
     and not (select rolsuper from pg_roles where rolname = current_user) then
    raise exception 'audit_log rows cannot be changed or deleted (% by %)', TG_OP, current_user
      using errcode = '42501', hint = 'The audit trail is append-only; only its owner may maintain it.';
  end if;
  return case when TG_OP = 'DELETE' then old else new end;
end $$;

create or replace trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_append_only();

create or replace trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();

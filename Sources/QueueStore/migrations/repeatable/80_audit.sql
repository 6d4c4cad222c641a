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
-- Who acted is the database login role: actor and db_role are session_user, which SECURITY
-- DEFINER does not change and no client can set. What the client says about itself is stored as
-- client_label: an unverified claim, never the actor. It is the transaction's queuetop.actor
-- setting when a caller sets one (set_config(…, true) before an RPC), else the connection's
-- application_name: the CLI and the dashboard send "queuetop user@host" there. application_name
-- is a startup parameter that PgBouncer and Supavisor keep per client, so behind a transaction
-- pooler one client's label never lands on another client's row (a session setting would).
create or replace function record_audit(action text, filter jsonb, affected bigint) returns bigint
language plpgsql as $$
declare v_id bigint;
begin
  insert into audit_log (db_role, actor, client_label, action, filter, affected)
  values (session_user, session_user, left(coalesce(nullif(current_setting('queuetop.actor', true), ''),
                                            nullif(current_setting('application_name'), '')), 200),
          record_audit.action, coalesce(record_audit.filter, '{}'), coalesce(record_audit.affected, 0))
  returning id into v_id;
  perform pg_notify('queuetop_changed', record_audit.action);
  return v_id;
end $$;

-- An action run in batches keeps one audit row: the first call opens it (record_audit) and each
-- batch passes its id. A batch may add to a row only when the same login role opened it, for the
-- same action and the same filter: queue, error_type, fingerprint and as_of, each equal to what the batch
-- runs with (as_of compared as a time, whatever its text). Anything else is refused with 42501
-- before the batch changes anything, so nobody can file work under another person's row, or under
-- a row that describes other jobs. NULL = no row (the batch records itself).
create or replace function _audit_check(audit_id bigint, p_action text, p_filter jsonb) returns void
language plpgsql stable as $$
declare r audit_log; v_same boolean;
begin
  if audit_id is null then return; end if;
  select * into r from audit_log where id = audit_id;
  if not found or r.action <> p_action then
    raise exception 'audit row % is not an open "%" action', audit_id, p_action
      using errcode = '42501', hint = 'Pass the id returned by record_audit for this action, or null.';
  end if;
  if r.db_role <> session_user then
    raise exception 'audit row % belongs to role %, not to %: a batch may only add to the row of its own action',
      audit_id, r.db_role, session_user
      using errcode = '42501', hint = 'Open your own row with record_audit, or pass null.';
  end if;
  begin
    v_same := (r.filter -> 'queue') is not distinct from coalesce(p_filter -> 'queue', 'null')
      and (r.filter -> 'error_type') is not distinct from coalesce(p_filter -> 'error_type', 'null')
      and coalesce(r.filter -> 'fingerprint', 'null') = coalesce(p_filter -> 'fingerprint', 'null')
      and (r.filter ->> 'as_of')::timestamptz is not distinct from (p_filter ->> 'as_of')::timestamptz;
  exception when others then
    v_same := false;  -- an as_of that is no time at all is no match
  end;
  if not v_same then
    raise exception 'audit row % records filter %, not the filter of this batch %', audit_id, r.filter, p_filter
      using errcode = '42501',
            hint = 'A batch adds to the row of the action it belongs to: same queue, error_type, fingerprint and as_of.';
  end if;
end $$;

-- Adds a batch's count to an open audit row (from record_audit, checked by _audit_check), or
-- records the batch on its own when no row was opened (a raw RPC call).
create or replace function _audit_add(audit_id bigint, p_action text, p_filter jsonb, n bigint) returns void
language plpgsql as $$
begin
  if audit_id is null then
    perform record_audit(p_action, p_filter, n);
    return;
  end if;
  perform _audit_check(audit_id, p_action, p_filter);
  update audit_log set affected = affected + n where id = audit_id and action = p_action;
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

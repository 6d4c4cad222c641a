-- Bulk actions on jobs found by a filter (`queuetop jobs cancel|retry|requeue|delete|priority
-- --where …`, the jobs screen's marked rows). The filter language itself is compiled by the
-- client (QueueStore/JobFilterSQL.swift) into a read the caller's own SELECT privilege runs;
-- that read only chooses ids. Changing them goes through jobs_bulk_apply below, which checks
-- each job's state again under a row lock, so no client can make an action reach a job the
-- action's rules exclude, whatever ids it sends.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. SECURITY DEFINER,
-- search_path and grants are set by 90_privileges.sql.

-- Applies one bulk action to one batch of ids (at most 100000), each only if it is still in a
-- state the action applies to and unchanged since as_of:
--   run_now   pending, scheduled or retrying -> due now (run_at = now(), no backoff left)
--   cancel    pending, scheduled or retrying -> cancelled (reason 'operator')
--   requeue   dead or cancelled -> pending, due now, attempts counted from zero; a job whose
--             dedup key an active job holds is skipped (that job already does its work)
--   delete    dead, cancelled or completed -> gone
--   priority  pending, scheduled or retrying -> priority = new_priority
-- Ids in any other state, or unknown, are skipped. Returns how many jobs changed.
-- "Unchanged since as_of" is greatest(created_at, started_at, completed_at, last_error_at) <= as_of:
-- a job created, claimed, finished or failed after as_of is not the job the operator previewed
-- (one that failed and came back to pending at 14:05 is not cancelled by a cancel previewed at
-- 14:00), so the action leaves it alone. JobBulkStore selects ids with the same condition.
-- audit_id: the row record_audit('jobs.<action>', {"where": …, "as_of": …}, 0) opened for this
-- action; this batch's count is added to it, so one action is one audit row however many
-- batches it takes. A row of another role, action, filter text or as_of is refused (42501).
-- The filter text is the client's word for which jobs it chose, and the ids are whatever it
-- sends: so the row also records what this function itself changed. Each batch that changes a
-- job adds its queues to "queues" (all of them) and its ids to "changed_ids" (the first 1000
-- of the action); those two keys are this function's, and a row opened with either of them
-- already in its filter is refused (42501), so a client cannot pre-write them.
create or replace function jobs_bulk_apply(action text, ids uuid[], as_of timestamptz, audit_id bigint,
                                           new_priority int default null)
returns int
language plpgsql volatile as $$
declare
  p_action text := jobs_bulk_apply.action;
  p_as_of timestamptz := jobs_bulk_apply.as_of;
  v_audit audit_log;
  v_filter jsonb;
  v_queues text[];
  v_changed uuid[];
  v_touched text[];
  n int := 0;
begin
  if p_action is null or p_action not in ('run_now', 'cancel', 'requeue', 'delete', 'priority') then
    raise exception 'unknown bulk action "%"', p_action
      using errcode = '22023', hint = 'One of run_now, cancel, requeue, delete, priority.';
  end if;
  perform _check_batch_size(cardinality(ids), 'number of ids');
  if p_as_of is null then
    raise exception 'as_of is required: a bulk action touches only jobs unchanged since its preview'
      using errcode = '22023';
  end if;
  perform _check_time(p_as_of, 'as_of');
  if p_as_of > now() then
    raise exception 'as_of % is in the future', p_as_of using errcode = '22023';
  end if;
  if p_action = 'priority' and (new_priority is null or new_priority not between -1000000 and 1000000) then
    raise exception 'priority must be between -1000000 and 1000000, got %', coalesce(new_priority::text, 'null')
      using errcode = '22023';
  end if;
  if audit_id is null then
    raise exception 'audit_id is required: open the action''s audit row with record_audit first'
      using errcode = '22023';
  end if;
  select * into v_audit from audit_log a where a.id = audit_id;
  if not found or v_audit.action <> 'jobs.' || p_action or v_audit.db_role <> session_user then
    raise exception 'audit row % is not an open "jobs.%" action of role %', audit_id, p_action, session_user
      using errcode = '42501', hint = 'Pass the id record_audit returned for this action.';
  end if;
  begin
    if (v_audit.filter ->> 'as_of')::timestamptz is distinct from p_as_of
       or jsonb_typeof(v_audit.filter -> 'where') is distinct from 'string'
       or v_audit.filter -> 'outcome' is not null then  -- closed by jobs_bulk_end: no more batches
      v_audit := null;
    end if;
  exception when others then
    v_audit := null;
  end;
  if v_audit is null then
    raise exception 'audit row % does not record this action''s filter and as_of %', audit_id, p_as_of
      using errcode = '42501', hint = 'record_audit(''jobs.ACTION'', {"where": FILTER, "as_of": AS_OF}, 0)';
  end if;
  if v_audit.affected = 0 and (v_audit.filter ? 'queues' or v_audit.filter ? 'changed_ids') then
    raise exception 'audit row % already names queues or changed ids; only jobs_bulk_apply writes them', audit_id
      using errcode = '42501', hint = 'record_audit(''jobs.ACTION'', {"where": FILTER, "as_of": AS_OF}, 0)';
  end if;

  if p_action = 'delete' then
    with target as (
      select j.id from job_queue j
      where j.id = any(ids) and j.status in ('dead_letter', 'failed', 'cancelled', 'completed')
        and greatest(j.created_at, j.started_at, j.completed_at, j.last_error_at) <= p_as_of
      for update of j
    ), gone as (
      delete from job_queue j using target t where j.id = t.id
      returning j.id, j.queue
    )
    select count(*), array_agg(g.id), array_agg(distinct g.queue) into n, v_changed, v_touched from gone g;
  elsif p_action = 'requeue' then
    -- Dead jobs go through the DLQ's own requeue (dedup rules included); cancelled ones the same
    -- way, minus the cancel reason. Of two with one dedup key, only the older is requeued.
    with target as (
      select j.id from job_queue j
      where j.id = any(ids) and j.status in ('dead_letter', 'failed', 'cancelled')
        and greatest(j.created_at, j.started_at, j.completed_at, j.last_error_at) <= p_as_of
        and (j.dedup_key is null or not exists (
              select 1 from job_queue a
              where a.queue = j.queue and a.dedup_key = j.dedup_key
                and (a.status in ('pending', 'processing')
                     or (a.status in ('dead_letter', 'failed', 'cancelled') and a.id < j.id and a.id = any(ids)))))
      for update of j
    ), moved as (
      update job_queue j
      set status = 'pending', run_at = now(), next_retry_at = null, locked_by = null, heartbeat_at = null,
          attempt_count = 0, cancel_reason = null, completed_at = null
      from target t where j.id = t.id
      returning j.id, j.queue
    )
    select count(*), array_agg(distinct m.queue), array_agg(m.id) into n, v_queues, v_changed from moved m;
    v_touched := v_queues;
  else
    with target as (
      select j.id from job_queue j
      where j.id = any(ids) and j.status = 'pending'
        and greatest(j.created_at, j.started_at, j.completed_at, j.last_error_at) <= p_as_of
      for update of j
    ), changed as (
      update job_queue j
      set status = case when p_action = 'cancel' then 'cancelled' else j.status end,
          cancel_reason = case when p_action = 'cancel' then 'operator' else j.cancel_reason end,
          completed_at = case when p_action = 'cancel' then now() else j.completed_at end,
          run_at = case when p_action = 'run_now' then least(j.run_at, now()) else j.run_at end,
          next_retry_at = case when p_action in ('run_now', 'cancel') then null else j.next_retry_at end,
          priority = case when p_action = 'priority' then new_priority else j.priority end
      from target t where j.id = t.id
      returning j.id, j.queue
    )
    select count(*), array_agg(distinct c.queue), array_agg(c.id) into n, v_queues, v_changed from changed c;
    v_touched := v_queues;
    if p_action = 'cancel' then v_queues := null; end if;
  end if;

  perform pg_notify('queuetop_jobs', x.q) from unnest(v_queues) x(q);
  update audit_log a
  set affected = a.affected + n,
      filter = case when n = 0 then a.filter else a.filter || jsonb_build_object(
        'queues', (select jsonb_agg(distinct q.q order by q.q)
                   from (select jsonb_array_elements_text(coalesce(a.filter -> 'queues', '[]')) union all
                         select unnest(v_touched)) q(q)),
        'changed_ids', (select jsonb_agg(x.id order by x.o)
                        from (select e.id, e.o from jsonb_array_elements_text(coalesce(a.filter -> 'changed_ids', '[]'))
                                                      with ordinality e(id, o)
                              union all
                              select c.id::text, 1000000 + c.o from unnest(v_changed) with ordinality c(id, o)
                              order by 2 limit 1000) x)) end
  where a.id = audit_id;
  if n > 0 then perform pg_notify('queuetop_changed', 'jobs.' || p_action); end if;
  return n;
end $$;

-- Closes a bulk action that did not run to the end: the operator stopped it between batches
-- ('stopped'), or a batch failed ('failed'). The action's audit row gets {"outcome": …,
-- "done": <jobs changed so far>, "reason": …} added to its filter, so the trail says how far it
-- went and why it ended; the jobs already changed stay changed (each batch committed on its own).
-- Only the role that opened the row may close it, only a jobs.* row, and only once.
create or replace function jobs_bulk_end(audit_id bigint, outcome text, reason text default null)
returns bigint
language plpgsql volatile as $$
declare
  p_outcome text := jobs_bulk_end.outcome;
  v_audit audit_log;
begin
  if p_outcome is null or p_outcome not in ('stopped', 'failed') then
    raise exception 'unknown bulk outcome "%"', p_outcome
      using errcode = '22023', hint = 'One of stopped, failed.';
  end if;
  if audit_id is null then
    raise exception 'audit_id is required' using errcode = '22023';
  end if;
  select * into v_audit from audit_log a where a.id = audit_id for update;
  if not found or v_audit.action not like 'jobs.%' or v_audit.db_role <> session_user then
    raise exception 'audit row % is not a bulk jobs action of role %', audit_id, session_user
      using errcode = '42501', hint = 'Pass the id record_audit returned for this action.';
  end if;
  if jsonb_typeof(v_audit.filter) <> 'object' or v_audit.filter -> 'outcome' is not null then
    raise exception 'audit row % is already closed (%)', audit_id, coalesce(v_audit.filter ->> 'outcome', 'not an object')
      using errcode = '55000';
  end if;
  update audit_log a
  set filter = a.filter || jsonb_build_object('outcome', p_outcome, 'done', a.affected)
               || case when reason is null then '{}'::jsonb else jsonb_build_object('reason', left(reason, 500)) end
  where a.id = audit_id;
  perform pg_notify('queuetop_changed', v_audit.action);
  return v_audit.affected;
end $$;

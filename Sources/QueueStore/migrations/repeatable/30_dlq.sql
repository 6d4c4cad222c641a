-- The dead-letter queue: requeue and delete, one job, marked jobs, or a filter in short batches.
-- Every action writes its audit row.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- Moves the given dead_letter jobs back to pending, due now. A job whose dedup key is held by an
-- active job stays in the DLQ (the active job already does its work); of two dead jobs with the
-- same key in one call, only the older is requeued. Each requeued job's previous fields go to
-- requeue_undo under audit_id, so undo_requeue (15_triage.sql) can put it back. Returns the
-- queues of the requeued jobs.
create or replace function _requeue_dlq(ids uuid[], reset_attempts boolean, audit_id bigint) returns setof text
language sql volatile as $$
  with target as (
    select j.id, j.attempt_count, j.run_at, j.next_retry_at, j.started_at, j.last_error_at
    from job_queue j
    where j.id = any(ids) and j.status = 'dead_letter'
      and (j.dedup_key is null or not exists (
            select 1 from job_queue a
            where a.queue = j.queue and a.dedup_key = j.dedup_key
              and (a.status in ('pending', 'processing')
                   or (a.status = 'dead_letter' and a.id < j.id and a.id = any(ids)))))
    for update of j
  ), moved as (
    update job_queue j
    set status = 'pending', run_at = now(), next_retry_at = null, locked_by = null, heartbeat_at = null,
        attempt_count = case when coalesce(reset_attempts, true) then 0 else j.attempt_count end
    from target t
    where j.id = t.id
    returning j.queue, t.*
  ), kept as (
    insert into requeue_undo (audit_id, job_id, attempt_count, run_at, next_retry_at, started_at, last_error_at)
    select audit_id, m.id, m.attempt_count, m.run_at, m.next_retry_at, m.started_at, m.last_error_at
    from moved m
  )
  select m.queue from moved m
$$;

-- Seed API: requeues one dead_letter job (reset_attempts: start counting attempts again).
-- Refuses, with the reason, an unknown id, a job in another status, or a dedup conflict.
create or replace function requeue_dlq_job(job_id uuid, reset_attempts boolean default true) returns boolean
language plpgsql volatile as $$
declare v_job job_queue; v_holder uuid; v_queue text; v_audit bigint;
begin
  select * into v_job from job_queue j where j.id = requeue_dlq_job.job_id for update;
  if not found then
    raise exception 'unknown job %', job_id using errcode = 'P0002';
  end if;
  if v_job.status <> 'dead_letter' then
    raise exception 'job % is %, not dead_letter; only dead-letter jobs can be requeued', job_id, v_job.status
      using errcode = '55000';
  end if;
  if v_job.dedup_key is not null then
    select a.id into v_holder from job_queue a
    where a.queue = v_job.queue and a.dedup_key = v_job.dedup_key and a.status in ('pending', 'processing');
    if found then
      raise exception 'job % has dedup key "%", already held by active job %', job_id, v_job.dedup_key, v_holder
        using errcode = '55000', hint = 'Let that job finish, or delete this one from the DLQ.';
    end if;
  end if;
  v_audit := record_audit('dlq.requeue',
    jsonb_build_object('ids', jsonb_build_array(job_id), 'reset_attempts', reset_attempts), 1);
  select q into v_queue from _requeue_dlq(array[job_id], reset_attempts, v_audit) q;
  perform pg_notify('queuetop_jobs', v_queue);
  return true;
end $$;

-- Requeues marked jobs; ids that are no longer dead_letter are skipped. Returns the count.
create or replace function requeue_dlq_jobs(ids uuid[], reset_attempts boolean default true) returns int
language plpgsql volatile as $$
declare v_queues text[]; n int; v_audit bigint;
begin
  perform _check_batch_size(cardinality(ids), 'number of ids');
  v_audit := record_audit('dlq.requeue', _audit_ids(ids) || jsonb_build_object('reset_attempts', reset_attempts), 0);
  select count(*), array_agg(distinct q) into n, v_queues from _requeue_dlq(ids, reset_attempts, v_audit) q;
  perform pg_notify('queuetop_jobs', x.q) from unnest(v_queues) x(q);
  update audit_log set affected = n where id = v_audit;
  return n;
end $$;

-- One short batch of a bulk requeue: up to batch_size dead_letter jobs of `queue` (null = all),
-- `error_type` (null = all) and `fingerprint` (null = all; a group is a queue and a fingerprint,
-- 15_triage.sql) whose last error is at or before as_of (null = now), so the operator requeues
-- what they previewed and not the failures that arrive meanwhile. Rows locked by someone else
-- are skipped. The client calls again until it returns 0 (or CALL requeue_dlq).
-- audit_id: a row from record_audit('dlq.requeue', …) to add this batch's count to; null = this
-- call gets its own audit row. The row must be one the calling login role opened, for this
-- action and this very filter (queue, error_type, fingerprint, as_of); any other is refused
-- (42501) before anything changes, so nobody can file their batches under someone else's action.
-- Every requeued job is recorded under the audit row for undo_requeue.
create or replace function requeue_dlq_batch(queue text, error_type text, reset_attempts boolean,
                                             as_of timestamptz, batch_size int, audit_id bigint default null,
                                             fingerprint text default null)
returns int
language plpgsql volatile as $$
declare
  p_queue text := requeue_dlq_batch.queue;
  p_type text := requeue_dlq_batch.error_type;
  p_fp text := requeue_dlq_batch.fingerprint;
  p_as_of timestamptz := coalesce(requeue_dlq_batch.as_of, now());
  v_filter jsonb;
  v_audit bigint := requeue_dlq_batch.audit_id;
  v_ids uuid[]; v_queues text[]; n int;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  perform _check_time(requeue_dlq_batch.as_of, 'as_of');
  if p_queue is not null then perform _require_queue(p_queue); end if;
  v_filter := jsonb_build_object('queue', p_queue, 'error_type', p_type, 'as_of', p_as_of)
              || case when p_fp is null then '{}' else jsonb_build_object('fingerprint', p_fp) end;
  perform _audit_check(v_audit, 'dlq.requeue', v_filter);
  if v_audit is null then
    v_audit := record_audit('dlq.requeue', v_filter || jsonb_build_object('reset_attempts', reset_attempts), 0);
  end if;
  select array_agg(c.id) into v_ids from (
    select j.id from job_queue j
    where j.status = 'dead_letter'
      and (p_queue is null or j.queue = p_queue)
      and (p_type is null or j.error_type = p_type)
      and (p_fp is null or coalesce(j.error_fingerprint, error_fingerprint(j.error_type, j.error_message)) = p_fp)
      and coalesce(j.last_error_at, j.created_at) <= p_as_of
      and (j.dedup_key is null or not exists (
            select 1 from job_queue a where a.queue = j.queue and a.dedup_key = j.dedup_key
              and a.status in ('pending', 'processing')))
    limit batch_size
    for update of j skip locked
  ) c;
  select count(*), array_agg(distinct q) into n, v_queues
  from _requeue_dlq(coalesce(v_ids, '{}'), reset_attempts, v_audit) q;
  perform pg_notify('queuetop_jobs', x.q) from unnest(v_queues) x(q);
  update audit_log a set affected = a.affected + n where a.id = v_audit;
  if n > 0 then perform pg_notify('queuetop_changed', 'dlq.requeue'); end if;
  return n;
end $$;

-- For psql users: the whole bulk requeue, committing after every batch so no lock is held for
-- long. One audit row for the whole action. `CALL queuetop.requeue_dlq('emails', 'smtp_error');`, or
-- one error group: `CALL queuetop.requeue_dlq('emails', fingerprint => '3fa9c2d1e0b4');`
--
-- A procedure that COMMITs may be neither SECURITY DEFINER nor have a SET clause (PostgreSQL
-- forbids transaction control in both), so it cannot pin its search_path as every other
-- function does (90_privileges.sql). It runs with the caller's search_path, which need not hold
-- queuetop's schema at all. So the body names its own schema: it is created here with every
-- queuetop call qualified by the schema this file is being applied to (current_schema(), quoted),
-- and every built-in function qualified with pg_catalog, so nothing on the caller's path (not
-- even a look-alike function in a schema the caller can write to) is called instead. The file
-- itself names no schema: an install under `--schema other` gets a body naming "other".
do $install$
begin
  execute format($proc$
create or replace procedure requeue_dlq(queue text default null, error_type text default null,
                                        reset_attempts boolean default true, as_of timestamptz default null,
                                        batch_size int default 1000, inout requeued bigint default 0,
                                        fingerprint text default null)
language plpgsql as $body$
declare v_audit bigint; v_as_of timestamptz := coalesce(as_of, pg_catalog.now()); n int;
begin
  perform %1$s._check_batch_size(batch_size, 'batch_size');
  perform %1$s._check_time(as_of, 'as_of');
  if queue is not null then perform %1$s._require_queue(queue); end if;
  requeued := 0;
  v_audit := %1$s.record_audit('dlq.requeue', pg_catalog.jsonb_build_object('queue', queue, 'error_type', error_type,
                          'as_of', v_as_of, 'reset_attempts', reset_attempts)
                          OPERATOR(pg_catalog.||) (case when fingerprint is null then '{}'::jsonb
                              else pg_catalog.jsonb_build_object('fingerprint', fingerprint) end), 0);
  loop
    n := %1$s.requeue_dlq_batch(queue, error_type, reset_attempts, v_as_of, batch_size, v_audit, fingerprint);
    requeued := requeued + n;
    commit;
    exit when n = 0;
  end loop;
end $body$
$proc$, pg_catalog.quote_ident(pg_catalog.current_schema()));
end $install$;

-- Deletes the given dead_letter jobs (other ids are skipped). Returns the count. Audited only
-- when something was deleted: ids that are not dead leave no trace of a deletion.
create or replace function delete_dlq_jobs(ids uuid[]) returns int
language plpgsql volatile as $$
declare n int;
begin
  perform _check_batch_size(cardinality(ids), 'number of ids');
  delete from job_queue j where j.id = any(delete_dlq_jobs.ids) and j.status = 'dead_letter';
  get diagnostics n = row_count;
  if n > 0 then perform record_audit('dlq.delete', _audit_ids(ids), n); end if;
  return n;
end $$;

-- One short batch of a bulk DLQ delete; same filter (queue, error_type, fingerprint), as_of and
-- audit_id rules as requeue_dlq_batch.
create or replace function delete_dlq_batch(queue text, error_type text, as_of timestamptz, batch_size int,
                                            audit_id bigint default null, fingerprint text default null)
returns int
language plpgsql volatile as $$
declare
  p_queue text := delete_dlq_batch.queue;
  p_type text := delete_dlq_batch.error_type;
  p_fp text := delete_dlq_batch.fingerprint;
  p_as_of timestamptz := coalesce(delete_dlq_batch.as_of, now());
  v_filter jsonb;
  n int;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  perform _check_time(delete_dlq_batch.as_of, 'as_of');
  if p_queue is not null then perform _require_queue(p_queue); end if;
  v_filter := jsonb_build_object('queue', p_queue, 'error_type', p_type, 'as_of', p_as_of)
              || case when p_fp is null then '{}' else jsonb_build_object('fingerprint', p_fp) end;
  perform _audit_check(audit_id, 'dlq.delete', v_filter);
  with c as (
    select j.id from job_queue j
    where j.status = 'dead_letter' and (p_queue is null or j.queue = p_queue)
      and (p_type is null or j.error_type = p_type)
      and (p_fp is null or coalesce(j.error_fingerprint, error_fingerprint(j.error_type, j.error_message)) = p_fp)
      and coalesce(j.last_error_at, j.created_at) <= p_as_of
    limit batch_size
    for update of j skip locked
  )
  delete from job_queue j using c where j.id = c.id;
  get diagnostics n = row_count;
  perform _audit_add(audit_id, 'dlq.delete', v_filter, n);
  return n;
end $$;

-- Triage (docs/TRIAGE.md): error fingerprints, the lifecycle of error groups (acknowledge,
-- snooze, resolve, reopen; regressed when a resolved group fails again), and undo for requeues.
-- Numbered 15 so it runs before 20_jobs.sql and 30_dlq.sql: their SQL-language bodies call
-- error_fingerprint and _record_error_groups, and PostgreSQL checks a SQL body when it is created.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- =============================================================================================
-- Fingerprints

-- A failure message with its variable parts replaced, so that "timeout after 30012 ms for order
-- 81723" and "timeout after 29870 ms for order 5" are one pattern: "timeout after <n> ms for
-- order <n>". Reads the first 500 characters only (grouping needs no more, and a bounded input
-- bounds the cost per failure). In order:
--   control characters and runs of white space (newlines, escape sequences' ESC) -> one space;
--   quoted strings ('…', "…", `…`, opening after a non-letter, so "can't" stays) -> <str>;
--   e-mail addresses -> <email>; a URL's query string -> ?<query>; UUIDs -> <uuid>;
--   0x… and words of 8+ hex digits holding both a digit and a letter -> <hex>;
--   numbers (digits, with . , : between groups: 1.5, 10.0.0.1, 12:30:05) -> <n>.
-- IMMUTABLE and pure (built-ins only), so apps failing jobs through SQL get the same patterns.
create or replace function error_pattern(message text) returns text
language sql immutable parallel safe as $$
  select left(btrim(
    regexp_replace(
     regexp_replace(
      regexp_replace(
       regexp_replace(
        regexp_replace(
         regexp_replace(
          regexp_replace(
           regexp_replace(
            regexp_replace(left(coalesce(message, ''), 500), '[[:cntrl:][:space:]]+', ' ', 'g'),
           '(^|[^[:alnum:]])''[^'']*''', '\1<str>', 'g'),
          '(^|[^[:alnum:]])"[^"]*"', '\1<str>', 'g'),
         '`[^`]*`', '<str>', 'g'),
        '[[:alnum:]._%+-]+@[[:alnum:]-]+(\.[[:alnum:]-]+)*\.[[:alpha:]]{2,}', '<email>', 'g'),
       '(://[^[:space:]?#]*)\?[^[:space:]#]*', '\1?<query>', 'g'),
      '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g'),
     '\m(0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,})\M', '<hex>', 'g'),
    '[0-9]+([.,:][0-9]+)*', '<n>', 'g')), 1000)
$$;

-- The fingerprint of a failure: 12 hex digits of md5(error type, 0x1F, pattern). Two failures
-- share it when they share a type and a pattern; a group is a queue and a fingerprint.
create or replace function error_fingerprint(error_type text, message text) returns text
language sql immutable parallel safe as $$
  select left(md5(coalesce(error_type, '') || chr(31) || error_pattern(message)), 12)
$$;

-- Records the groups of failures just stored (one row per queue and fingerprint; a group seen
-- before is left as it is, without a row lock), and marks the resolved ones among them
-- regressed: the trigger below then queues one alert notification per hook. Called by
-- _fail_jobs once per statement. Concurrent failures of one resolved group: the first UPDATE
-- flips it, the others wait for its row lock, re-check, find it regressed and change nothing.
create or replace function _record_error_groups(p_queues text[], p_fingerprints text[], p_types text[],
                                                p_messages text[])
returns void language sql volatile as $$
  with seen as (
    select distinct on (f.queue, f.fp) f.queue, f.fp, f.etype, f.msg
    from unnest(p_queues, p_fingerprints, p_types, p_messages) f(queue, fp, etype, msg)
    where f.fp is not null
    order by f.queue, f.fp
  ), added as (
    insert into error_groups (queue, fingerprint, error_type, pattern)
    select s.queue, s.fp, coalesce(s.etype, ''), error_pattern(s.msg) from seen s
    on conflict (queue, fingerprint) do nothing
  )
  update error_groups g set state = 'regressed', regressed_at = now(), state_changed_at = now(),
                            state_changed_by = null
  from seen s
  where g.queue = s.queue and g.fingerprint = s.fp and g.state = 'resolved'
$$;

-- A resolved group that fails again fires the alert hooks once: one notification per enabled
-- hook, kind error_group_regressed. It is queued in the failing transaction (the outbox), and
-- the workers' alert delivery posts it like any other alert.
create or replace function error_group_regressed() returns trigger
language plpgsql as $$
begin
  perform _queue_alert_notifications('firing',
    array['error_group_regressed:' || new.queue || ':' || new.fingerprint],
    array[jsonb_build_object('kind', 'error_group_regressed', 'queue', new.queue,
                             'fingerprint', new.fingerprint, 'error_type', new.error_type,
                             'pattern', new.pattern,
                             'message', format('%s: resolved error group %s failed again: %s',
                                               new.queue, new.fingerprint, left(new.pattern, 200)))],
    now());
  perform pg_notify('queuetop_changed', 'error_group.regressed');
  return null;
end $$;

create or replace trigger error_groups_regressed after update of state on error_groups
  for each row when (old.state = 'resolved' and new.state = 'regressed')
  execute function error_group_regressed();

-- Backfill for rows failed before 0021, in short batches: `queuetop migrate` calls this until it
-- returns false, each call its own transaction. One call takes the next batch_size rows by
-- primary key after the place fingerprint_backfill keeps (job_queue first, then job_attempts)
-- and fingerprints those that carry an error and have none yet: a batch reads batch_size rows
-- however few need work, so no call scans far or holds row locks for long. Rows locked by a
-- worker at that moment are skipped; they get their fingerprint when they fail (or, read
-- before then, on the fly). Returns whether there is more to do.
create or replace function backfill_fingerprints(batch_size int default 5000) returns boolean
language plpgsql volatile as $$
declare p fingerprint_backfill; v_last_job uuid; v_last_attempt bigint;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  select * into p from fingerprint_backfill for update;
  if not found or p.done_at is not null then return false; end if;
  select w.id into v_last_job from (
    select j.id from job_queue j where p.job_after is null or j.id > p.job_after order by j.id limit batch_size
  ) w order by w.id desc limit 1;
  if v_last_job is not null then
    with todo as (
      select j.id, j.queue, j.error_type, j.error_message, error_fingerprint(j.error_type, j.error_message) as fp
      from job_queue j
      where (p.job_after is null or j.id > p.job_after) and j.id <= v_last_job
        and j.error_fingerprint is null and (j.error_message is not null or j.error_type is not null)
      for update of j skip locked
    ), done as (
      update job_queue j set error_fingerprint = t.fp from todo t where j.id = t.id
      returning t.queue, t.fp, t.error_type, t.error_message
    )
    insert into error_groups (queue, fingerprint, error_type, pattern)
    select distinct on (d.queue, d.fp) d.queue, d.fp, coalesce(d.error_type, ''), error_pattern(d.error_message)
    from done d order by d.queue, d.fp
    on conflict (queue, fingerprint) do nothing;
    update fingerprint_backfill set job_after = v_last_job;
    return true;
  end if;
  select max(w.id) into v_last_attempt from (
    select a.id from job_attempts a where p.attempt_after is null or a.id > p.attempt_after order by a.id limit batch_size
  ) w;
  if v_last_attempt is not null then
    update job_attempts a set error_fingerprint = error_fingerprint(a.error_type, a.error_message)
    where (p.attempt_after is null or a.id > p.attempt_after) and a.id <= v_last_attempt
      and a.error_fingerprint is null;
    update fingerprint_backfill set attempt_after = v_last_attempt;
    return true;
  end if;
  update fingerprint_backfill set done_at = now();
  return false;
end $$;

-- =============================================================================================
-- Lifecycle

-- The group, or an error naming what exists. A group is a queue and a fingerprint.
create or replace function _require_error_group(p_queue text, p_fingerprint text) returns error_groups
language plpgsql stable as $$
declare r error_groups;
begin
  perform _require_queue(p_queue);
  select * into r from error_groups g where g.queue = p_queue and g.fingerprint = lower(p_fingerprint);
  if not found then
    raise exception 'no error group % in queue %', p_fingerprint, p_queue
      using errcode = 'P0002', hint = 'List groups with `queuetop dlq groups`; a group is QUEUE/FINGERPRINT.';
  end if;
  return r;
end $$;

-- Acknowledge ("seen"): for the calling login role, the group is no longer new until it fails
-- again. The state is not changed (a resolved group stays resolved). Audited.
create or replace function ack_error_group(p_queue text, p_fingerprint text) returns error_groups
language plpgsql volatile as $$
declare r error_groups := _require_error_group(p_queue, p_fingerprint);
begin
  insert into error_group_acks (queue, fingerprint, db_role, acked_at)
  values (r.queue, r.fingerprint, session_user, now())
  on conflict (queue, fingerprint, db_role) do update set acked_at = excluded.acked_at;
  perform record_audit('error_group.ack', jsonb_build_object('queue', r.queue, 'fingerprint', r.fingerprint), 1);
  return r;
end $$;

-- Snooze: hidden from "needs attention" until `until` passes, or until the group's DLQ count
-- passes `above` (whichever is given; both: whichever comes first). Audited.
create or replace function snooze_error_group(p_queue text, p_fingerprint text, p_until timestamptz default null,
                                              p_above int default null)
returns error_groups
language plpgsql volatile as $$
declare r error_groups := _require_error_group(p_queue, p_fingerprint);
begin
  if p_until is null and p_above is null then
    raise exception 'snooze needs a time (until) or a count (above), or both'
      using errcode = '22023', hint = 'e.g. --for 2h, or --until-count 500.';
  end if;
  perform _check_time(p_until, 'until');
  if p_until is not null and p_until <= now() then
    raise exception 'snooze until % is not in the future', p_until using errcode = '22023';
  end if;
  if p_above is not null and p_above < 0 then
    raise exception 'snooze above must be 0 or more, got %', p_above using errcode = '22023';
  end if;
  update error_groups g set state = 'snoozed', snoozed_until = p_until, snooze_above = p_above,
                            state_changed_at = now(), state_changed_by = session_user
  where g.queue = r.queue and g.fingerprint = r.fingerprint returning * into r;
  perform record_audit('error_group.snooze', jsonb_build_object('queue', r.queue, 'fingerprint', r.fingerprint,
                       'until', p_until, 'above', p_above), 1);
  return r;
end $$;

-- Resolve ("fixed"): the next failure of the group marks it regressed and fires the hooks once.
-- Reopen: back to open, whatever it was. Both audited.
create or replace function _set_error_group_state(p_queue text, p_fingerprint text, p_state text, p_action text)
returns error_groups
language plpgsql volatile as $$
declare r error_groups := _require_error_group(p_queue, p_fingerprint);
begin
  update error_groups g set state = p_state, snoozed_until = null, snooze_above = null,
                            regressed_at = case when p_state = 'open' then g.regressed_at end,
                            state_changed_at = now(), state_changed_by = session_user
  where g.queue = r.queue and g.fingerprint = r.fingerprint returning * into r;
  perform record_audit(p_action, jsonb_build_object('queue', r.queue, 'fingerprint', r.fingerprint), 1);
  return r;
end $$;

create or replace function resolve_error_group(p_queue text, p_fingerprint text) returns error_groups
language sql volatile as $$ select _set_error_group_state(p_queue, p_fingerprint, 'resolved', 'error_group.resolve') $$;

create or replace function reopen_error_group(p_queue text, p_fingerprint text) returns error_groups
language sql volatile as $$ select _set_error_group_state(p_queue, p_fingerprint, 'open', 'error_group.reopen') $$;

-- The DLQ groups as triage lists them: one row per queue and fingerprint with dead-letter jobs,
-- with the pattern, a sample message, counts and times, the lifecycle state as it stands now (a
-- snooze that ran out or whose count was passed reads 'open'), and, for the calling login role,
-- when it last acknowledged the group and whether the group is new since then. Rows not yet
-- backfilled are fingerprinted on the fly.
create or replace function dlq_error_groups(p_queue text default null)
returns table (queue text, fingerprint text, error_type text, pattern text, sample_message text, count int,
               first_error_at timestamptz, last_error_at timestamptz, state text, snoozed_until timestamptz,
               snooze_above int, regressed_at timestamptz, acked_at timestamptz, is_new boolean)
language sql stable as $$
  with dead as (
    select j.queue, coalesce(j.error_fingerprint, error_fingerprint(j.error_type, j.error_message)) as fp,
           j.error_type, j.error_message, j.last_error_at
    from job_queue j
    where j.status = 'dead_letter' and (p_queue is null or j.queue = p_queue)
  ), grouped as (
    select d.queue, d.fp, count(*)::int as n, min(d.last_error_at) as first_at, max(d.last_error_at) as last_at,
           (array_agg(d.error_message order by d.last_error_at desc nulls last))[1] as sample,
           min(d.error_type) as etype  -- one type per fingerprint; only read when error_groups lacks the row
    from dead d group by d.queue, d.fp
  )
  select g.queue, g.fp, coalesce(e.error_type, g.etype), coalesce(e.pattern, error_pattern(g.sample)), g.sample, g.n,
         g.first_at, g.last_at,
         case when e.state = 'snoozed'
                   and ((e.snoozed_until is not null and e.snoozed_until <= now())
                        or (e.snooze_above is not null and g.n > e.snooze_above)) then 'open'
              else coalesce(e.state, 'open') end,
         e.snoozed_until, e.snooze_above, e.regressed_at, a.acked_at,
         a.acked_at is null or g.last_at > a.acked_at
  from grouped g
  left join error_groups e on e.queue = g.queue and e.fingerprint = g.fp
  left join error_group_acks a on a.queue = g.queue and a.fingerprint = g.fp and a.db_role = session_user
  order by g.n desc, g.queue, g.fp
$$;

-- =============================================================================================
-- Undo for requeues

-- Undoes a DLQ requeue, given its audit row: every job it requeued that has not started since
-- (still pending, never claimed after the requeue) goes back to the DLQ exactly as it was:
-- status, attempts, run_at, next_retry_at, the error fields (untouched) and last_error_at. Jobs
-- that started, finished, were cancelled or deleted meanwhile are left alone. One undo per
-- requeue. Audited as dlq.undo; returns how many jobs went back.
-- "Already undone" is read from requeue_undo, which only this function empties, and not from a
-- dlq.undo audit row alone: an operator may write any audit row with record_audit, and a forged
-- dlq.undo row naming another operator's requeue must not make that requeue impossible to undo.
-- Two undos of one requeue at once: the advisory lock makes the second wait and find it done.
create or replace function undo_requeue(p_audit_id bigint) returns int
language plpgsql volatile as $$
declare r audit_log; v_prior bigint; n int;
begin
  perform pg_advisory_xact_lock(hashtext('queuetop.undo_requeue'), hashtext(coalesce(p_audit_id, 0)::text));
  select * into r from audit_log where id = p_audit_id;
  if not found then
    raise exception 'unknown audit row %', p_audit_id using errcode = 'P0002';
  end if;
  if r.action <> 'dlq.requeue' then
    raise exception 'audit row % is a % action; only a dlq.requeue can be undone', p_audit_id, r.action
      using errcode = '55000';
  end if;
  select a.id into v_prior from audit_log a
  where a.action = 'dlq.undo' and a.filter ->> 'audit_id' = p_audit_id::text
    and not exists (select 1 from requeue_undo u where u.audit_id = p_audit_id)
  order by a.id limit 1;
  if found then
    raise exception 'requeue % was already undone (audit row %)', p_audit_id, v_prior using errcode = '55000';
  end if;
  if not exists (select 1 from requeue_undo u where u.audit_id = p_audit_id) and r.affected > 0 then
    raise exception 'requeue % has no undo record (it ran before undo existed, or its jobs are gone)', p_audit_id
      using errcode = '55000';
  end if;
  with back as (
    update job_queue j set status = 'dead_letter', attempt_count = u.attempt_count, run_at = u.run_at,
                           next_retry_at = u.next_retry_at, last_error_at = u.last_error_at,
                           locked_by = null, heartbeat_at = null
    from requeue_undo u
    where u.audit_id = p_audit_id and j.id = u.job_id and j.status = 'pending'
      and j.started_at is not distinct from u.started_at
    returning j.id
  )
  select count(*) into n from back;
  delete from requeue_undo u where u.audit_id = p_audit_id;
  perform record_audit('dlq.undo', jsonb_build_object('audit_id', p_audit_id), n);
  return n;
end $$;

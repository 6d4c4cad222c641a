-- Recurring schedules (cron). Reference: docs/SCHEDULES_AND_ALERTS.md.
--
-- Cron expressions are parsed and next fire times computed in Swift
-- (QueueStore/CronExpression.swift): SQL stores the expression and the next fire time. Exactly
-- one enqueue per tick across any number of worker processes: the ticker locks due rows with
-- FOR UPDATE SKIP LOCKED and, in the same transaction, enqueues (fire_schedule) and moves
-- next_run_at past now; a second ticker either skips the locked row or, once the first commits,
-- re-checks `next_run_at <= now()` on the new row version and drops it. The job's dedup key
-- (schedule:<name>:<tick epoch>) is a second guard while that job is still active.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

create or replace function _require_schedule(p_name text) returns schedules
language plpgsql stable as $$
declare r schedules;
begin
  select * into r from schedules where name = p_name;
  if not found then
    raise exception 'unknown schedule "%"', p_name
      using errcode = 'P0002', hint = 'List schedules with `queuetop schedule list`.';
  end if;
  return r;
end $$;

-- Operator: add a schedule. next_run_at comes from the caller's cron parser (queuetop computes
-- it); a name in use is a conflict, not an overwrite.
create or replace function create_schedule(p_name text, p_cron text, p_queue text, p_job_type text,
                                           p_payload jsonb, p_priority int, p_next_run_at timestamptz)
returns schedules language plpgsql volatile as $$
declare r schedules;
begin
  if exists (select 1 from schedules where name = p_name) then
    raise exception 'schedule "%" already exists', p_name
      using errcode = '55000', hint = 'Delete it first, or pick another name.';
  end if;
  if p_next_run_at is null then
    raise exception 'next_run_at is required' using errcode = '22023';
  end if;
  perform _check_time(p_next_run_at, 'next_run_at');
  insert into schedules (name, cron, queue, job_type, payload, priority, next_run_at)
  values (p_name, p_cron, p_queue, p_job_type, coalesce(p_payload, '{}'), coalesce(p_priority, 0), p_next_run_at)
  returning * into r;
  perform record_audit('schedule.add', jsonb_build_object('name', p_name, 'cron', p_cron, 'queue', p_queue,
                                                           'job_type', p_job_type), 1);
  return r;
end $$;

-- Operator: enable or disable. p_next_run_at (optional) restarts the clock on enable, so a
-- schedule disabled for a week does not fire at once for the tick it missed.
create or replace function set_schedule_enabled(p_name text, p_enabled boolean, p_next_run_at timestamptz default null)
returns schedules language plpgsql volatile as $$
declare r schedules;
begin
  perform _require_schedule(p_name);
  perform _check_time(p_next_run_at, 'next_run_at');
  update schedules set enabled = p_enabled, next_run_at = coalesce(p_next_run_at, next_run_at), updated_at = now()
  where name = p_name returning * into r;
  perform record_audit(case when p_enabled then 'schedule.enable' else 'schedule.disable' end,
                       jsonb_build_object('name', p_name), 1);
  return r;
end $$;

-- Operator: enqueue the schedule's job now, once, whether or not it is enabled; the regular
-- ticks are not moved. Returns the job id.
create or replace function run_schedule_now(p_name text)
returns uuid language plpgsql volatile as $$
declare
  s schedules := _require_schedule(p_name);
  v_job uuid;
begin
  v_job := enqueue_job(s.queue, s.job_type, s.payload, s.priority, null,
                       'schedule:' || s.name || ':now:' || (extract(epoch from clock_timestamp()) * 1000)::bigint);
  update schedules set last_run_at = now(), last_job_id = v_job, last_outcome = 'run now', updated_at = now()
  where name = p_name;
  perform record_audit('schedule.run', jsonb_build_object('name', p_name, 'job_id', v_job), 1);
  return v_job;
end $$;

create or replace function delete_schedule(p_name text)
returns void language plpgsql volatile as $$
begin
  perform _require_schedule(p_name);
  delete from schedules where name = p_name;
  perform record_audit('schedule.delete', jsonb_build_object('name', p_name), 1);
end $$;

-- Ticker: the due schedules, locked for this transaction; rows another ticker holds are skipped.
-- A row whose next_run_at is outside 1970-01-01..9999-12-31 (±infinity, put there by a raw
-- INSERT or UPDATE: the functions refuse such times) is never returned: it is disabled with the
-- reason, so the ticker never has to compute a tick from it and the other schedules still fire.
create or replace function lock_due_schedules(max_rows int default 100)
returns table (name text, cron text, next_run_at timestamptz, db_now timestamptz)
language plpgsql volatile as $$
#variable_conflict use_column
begin
  update schedules s
  set enabled = false, updated_at = now(),
      last_outcome = format('error: next_run_at %s is outside 1970-01-01..9999-12-31; disabled', s.next_run_at)
  where s.name in (select b.name from schedules b
                   where b.enabled and not _sane_time(b.next_run_at)
                   for update skip locked);
  return query
    select s.name, s.cron, s.next_run_at, now() from schedules s
    where s.enabled and s.next_run_at <= now()
    order by s.next_run_at
    limit greatest(1, least(max_rows, 10000))
    for update skip locked;
end $$;

-- Ticker: seconds until the earliest next_run_at of the enabled schedules (null: none), by the
-- database's clock, so the ticker knows how long to sleep. The worker role reads no table
-- (90_privileges.sql): this is all it needs of `schedules` beyond lock_due_schedules.
create or replace function schedules_next_due_s()
returns double precision language sql stable as $$
  select extract(epoch from min(s.next_run_at) - clock_timestamp())::float8
  from schedules s
  where s.enabled and _sane_time(s.next_run_at)
$$;

-- Ticker: one run for a locked due schedule. p_tick_at is the tick being run (the latest due
-- one when ticks were missed), p_missed how many earlier ticks were coalesced into it. A failed
-- enqueue (e.g. an invalid queue) is recorded as the outcome and the schedule still advances,
-- so one bad schedule cannot make every ticker retry it in a tight loop.
create or replace function fire_schedule(p_name text, p_tick_at timestamptz, p_missed int, p_next_run_at timestamptz)
returns text language plpgsql volatile as $$
declare
  s schedules := _require_schedule(p_name);
  v_key text;
  v_job uuid;
  v_existing uuid;
  v_outcome text;
begin
  perform _check_time(p_tick_at, 'tick_at');
  perform _check_time(p_next_run_at, 'next_run_at');
  v_key := 'schedule:' || s.name || ':' || floor(extract(epoch from p_tick_at))::bigint;
  select id into v_existing from job_queue
  where queue = s.queue and dedup_key = v_key and status in ('pending', 'processing');
  begin
    v_job := enqueue_job(s.queue, s.job_type, s.payload, s.priority, null, v_key);
    v_outcome := case when v_job = v_existing then 'deduplicated' else 'enqueued' end;
  exception when others then
    v_job := null;
    v_outcome := 'error: ' || left(sqlerrm, 500);
  end;
  if coalesce(p_missed, 0) > 0 then
    v_outcome := v_outcome || format(' (coalesced %s missed tick%s)', p_missed, case when p_missed = 1 then '' else 's' end);
  end if;
  update schedules
  set next_run_at = p_next_run_at, last_run_at = now(), last_job_id = coalesce(v_job, last_job_id),
      last_outcome = v_outcome, missed_ticks = missed_ticks + greatest(coalesce(p_missed, 0), 0), updated_at = now()
  where name = p_name;
  return v_outcome;
end $$;

-- Ticker: a row whose expression the parser rejects (a raw INSERT) is disabled with the reason.
create or replace function disable_broken_schedule(p_name text, p_reason text)
returns void language sql volatile as $$
  update schedules set enabled = false, last_outcome = 'error: ' || left(p_reason, 500), updated_at = now()
  where name = p_name
$$;

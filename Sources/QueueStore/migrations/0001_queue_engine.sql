-- 0001 — the queue engine: tables, indexes and the public SQL API of queuetop.
--
-- Applied inside one transaction by the migration runner (or `psql -1 -f`). Plain SQL, no psql
-- meta-commands. The public function names and argument order follow the seed documents
-- (fail_job, requeue_dlq_job) and docs/DESIGN.md (worker batch functions): apps call them over
-- RPC, so they are a contract. Names starting with `_` are internal.
--
-- Conventions
--   * attempt_count counts FAILED attempts; the attempt a handler is running is attempt_count + 1.
--   * Batch functions refuse a batch size below 1 or above 100000 (nothing is changed).
--   * Operator actions write audit_log rows (see record_audit) and NOTIFY queuetop_changed;
--     jobs becoming claimable NOTIFY queuetop_jobs with the queue name, once per statement.

-- ---------------------------------------------------------------------------------------------
-- Time-ordered ids. Random v4 UUIDs scatter inserts over the whole primary-key index; a UUIDv7
-- (48-bit unix milliseconds, then random bits) keeps new rows at the right edge of the index, and
-- lets retention walk the primary key in creation order. Bits 52 and 53 turn version 4 into 7.
create function uuid_v7() returns uuid
language sql volatile parallel safe as $$
  select encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
              from 1 for 6),
      52, 1), 53, 1), 'hex')::uuid
$$;

-- The smallest v7 id that can be generated at or after `t`: everything below it is older.
create function _uuid_v7_floor(t timestamptz) returns uuid
language sql immutable parallel safe as $$
  select encode(
    substring(int8send(greatest(0, (extract(epoch from t) * 1000)::bigint)) from 3)
    || '\x70000000000000000000'::bytea, 'hex')::uuid
$$;

-- ---------------------------------------------------------------------------------------------
-- Queues: one row of settings per queue. Enqueueing into an unknown queue creates it with these
-- defaults (documented behaviour: producers need no setup step); every operator function refuses
-- an unknown queue instead.
create table queues (
  name                   text primary key
                         check (name ~ '^[^[:cntrl:][:space:]]([^[:cntrl:]]{0,198}[^[:cntrl:][:space:]])?$'),
  paused                 boolean not null default false,
  concurrency_limit      int check (concurrency_limit between 1 and 100000),  -- null = unlimited
  max_attempts           int not null default 5 check (max_attempts between 1 and 1000),
  backoff_base_s         int not null default 30 check (backoff_base_s between 0 and 2592000),
  backoff_cap_s          int not null default 3600 check (backoff_cap_s between 0 and 2592000),
  -- An explicit schedule (seconds per failed attempt, last entry repeats) wins over exponential.
  backoff_schedule_s     int[] check (backoff_schedule_s is null or (
                           cardinality(backoff_schedule_s) between 1 and 100
                           and array_position(backoff_schedule_s, null) is null
                           and 0 <= all(backoff_schedule_s) and 2592000 >= all(backoff_schedule_s))),
  visibility_timeout_s   int not null default 300 check (visibility_timeout_s between 1 and 604800),
  rate_limit_per_s       numeric check (rate_limit_per_s > 0 and rate_limit_per_s <= 1000000),
  retention_s            int not null default 604800 check (retention_s between 0 and 315360000),
  dlq_alert_threshold    int not null default 100 check (dlq_alert_threshold >= 0),
  oldest_pending_alert_s int not null default 600 check (oldest_pending_alert_s >= 0),
  error_rate_alert       numeric not null default 0.5 check (error_rate_alert between 0 and 1),
  created_at             timestamptz not null default now(),
  updated_at             timestamptz not null default now(),
  check (backoff_base_s <= backoff_cap_s)
);

-- Token buckets for rate-limited queues, kept apart from `queues` so that every claim on a
-- rate-limited queue does not rewrite the settings row that all claimers read.
create table queue_rate_buckets (
  queue       text primary key references queues (name) on delete cascade on update cascade,
  tokens      double precision not null,
  refilled_at timestamptz not null
) with (fillfactor = 50);

-- ---------------------------------------------------------------------------------------------
-- The jobs. Status moves: pending -> processing -> completed | pending (retry, release, rescue)
-- | dead_letter; pending -> cancelled | dead_letter (fail_job on a pending job); dead_letter ->
-- pending (requeue) or deleted. 'failed' is accepted for seed compatibility; the engine itself
-- sends exhausted jobs to dead_letter.
create table job_queue (
  id                 uuid primary key default uuid_v7(),
  queue              text not null references queues (name) on update cascade,
  job_type           text not null check (length(job_type) between 1 and 200),
  payload            jsonb not null default '{}',
  status             text not null default 'pending'
                     check (status in ('pending', 'processing', 'completed', 'failed', 'dead_letter', 'cancelled')),
  priority           int not null default 0 check (priority between -1000000 and 1000000),
  run_at             timestamptz not null default now(),
  attempt_count      int not null default 0 check (attempt_count >= 0),
  max_attempts       int not null default 5 check (max_attempts between 1 and 1000),
  next_retry_at      timestamptz,
  dedup_key          text check (length(dedup_key) between 1 and 500),
  locked_by          text,
  heartbeat_at       timestamptz,
  created_at         timestamptz not null default now(),
  started_at         timestamptz,
  completed_at       timestamptz,
  processing_time_ms int check (processing_time_ms >= 0),
  error_message      text,
  error_type         text,
  error_details      jsonb,
  last_error_at      timestamptz
) with (
  -- Free room in every page lets heartbeats (which touch no indexed column) be HOT updates.
  fillfactor = 70,
  -- A hot queue churns: vacuum and analyze after ~2% of rows changed, not the default 20%/10%.
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_vacuum_insert_scale_factor = 0.05,
  autovacuum_vacuum_cost_limit = 2000
);

-- The claim path: due pending jobs of a queue in claim order. Within one priority, due jobs sort
-- before future ones (run_at ascending), so a claim stops at the first rows it can take.
create index job_queue_claim_idx on job_queue (queue, priority desc, run_at, id)
  where status = 'pending';
-- At most one active job per (queue, dedup_key); enqueue relies on it to be race-safe.
create unique index job_queue_dedup_idx on job_queue (queue, dedup_key)
  where status in ('pending', 'processing') and dedup_key is not null;
-- Lets a DLQ requeue find an older dead twin of the same dedup key cheaply.
create index job_queue_dedup_dead_idx on job_queue (queue, dedup_key)
  where status = 'dead_letter' and dedup_key is not null;
-- In-flight jobs: rescue scans and per-queue concurrency counts. started_at, not heartbeat_at:
-- indexing heartbeat_at would make every heartbeat a non-HOT update.
create index job_queue_processing_idx on job_queue (queue, started_at)
  where status = 'processing';
-- DLQ triage: by queue, error type and time.
create index job_queue_dlq_idx on job_queue (queue, error_type, last_error_at)
  where status = 'dead_letter';
-- Retention walks the primary key (ids are time-ordered), so completion adds no index entry.

-- One row per failed attempt: the history DLQ triage shows.
create table job_attempts (
  id            bigserial primary key,
  job_id        uuid not null references job_queue (id) on delete cascade,
  attempt       int not null check (attempt >= 1),
  error_type    text,
  error_message text,
  error_details jsonb,
  worker        text,
  failed_at     timestamptz not null default now()
);
create index job_attempts_job_idx on job_attempts (job_id, attempt);

-- ---------------------------------------------------------------------------------------------
-- Audit: every operator action, whoever ran it (CLI, dashboard, raw RPC).
create table audit_log (
  id       bigserial primary key,
  at       timestamptz not null default now(),
  db_role  text not null default session_user,
  actor    text default nullif(current_setting('queuetop.actor', true), ''),
  action   text not null,
  filter   jsonb not null default '{}',
  affected bigint not null default 0 check (affected >= 0)
);
create index audit_log_at_idx on audit_log (at desc);

-- ---------------------------------------------------------------------------------------------
-- Worker registry and circuit breakers: tables only; the worker pool owns their functions.
create table workers (
  id          text primary key,
  host        text,
  pid         int,
  queues      text[],
  concurrency int check (concurrency >= 0),
  in_flight   int not null default 0 check (in_flight >= 0),
  status      text not null default 'running' check (status in ('running', 'draining', 'stopped')),
  started_at  timestamptz not null default now(),
  last_seen   timestamptz not null default now()
) with (fillfactor = 70);

create table circuit_breakers (
  queue                text primary key references queues (name) on delete cascade on update cascade,
  state                text not null default 'closed' check (state in ('closed', 'open', 'half_open')),
  consecutive_failures int not null default 0 check (consecutive_failures >= 0),
  opened_at            timestamptz,
  reopen_at            timestamptz,
  updated_at           timestamptz not null default now()
);

-- =============================================================================================
-- Internal helpers. Error codes the Swift store maps (QueueStoreError):
--   P0002 unknown queue or job · 55000 job not in the status the action needs, or its dedup key
--   is held by an active job · 22023 invalid argument · 54000 payload too large
create function _check_batch_size(n int, what text) returns void
language plpgsql stable as $$
begin
  if n is null or n < 1 or n > 100000 then
    raise exception '% must be between 1 and 100000, got %', what, coalesce(n::text, 'null')
      using errcode = '22023', hint = 'Batches of a few hundred to a few thousand rows keep locks short.';
  end if;
end $$;

create function _require_queue(queue_name text) returns queues
language plpgsql stable as $$
declare r queues;
begin
  select * into r from queues where name = queue_name;
  if not found then
    raise exception 'unknown queue "%"', queue_name
      using errcode = 'P0002', hint = 'List queues with `queuetop queue list`; a queue is created by enqueueing into it.';
  end if;
  return r;
end $$;

-- Records one operator action and tells dashboards to refresh. Returns the audit row id, so a
-- client that runs an action in many batches can pass it on and keep one row per action.
create function record_audit(action text, filter jsonb, affected bigint) returns bigint
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
create function _audit_add(audit_id bigint, p_action text, p_filter jsonb, n bigint) returns void
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
create function _audit_ids(ids uuid[]) returns jsonb
language sql immutable as $$
  select case when cardinality(ids) <= 1000 then jsonb_build_object('ids', to_jsonb(ids))
              else jsonb_build_object('ids_count', cardinality(ids), 'ids_head', to_jsonb(ids[1:1000])) end
$$;

-- ---------------------------------------------------------------------------------------------
-- Backoff. For the n-th failed attempt (n = attempt_count after the failure, n >= 1):
--   delay(n) = schedule[min(n, len(schedule))]          when the queue has backoff_schedule_s
--            = min(cap, base * 2^(n-1))                 otherwise (backoff_base_s, backoff_cap_s)
--   wait     = max(delay(n) * f, retry_after_s)         f uniform in [1, 1.25) (jitter)
-- Bounds: delay(n) <= wait < 1.25 * delay(n), unless retry_after_s is larger (then wait equals it).
-- The jitter spreads retries of jobs that failed together (an outage) instead of waking them at
-- one instant. next_retry_at = run_at = failure time + wait.
create function backoff_delay_s(base_s int, cap_s int, schedule_s int[], attempt int)
returns double precision
language sql immutable parallel safe as $$
  select case
    when schedule_s is not null and cardinality(schedule_s) > 0
      then schedule_s[least(greatest(attempt, 1), cardinality(schedule_s))]::double precision
    else least(cap_s::double precision,
               base_s * power(2::double precision, least(greatest(attempt, 1) - 1, 60)))
  end
$$;

-- The one place failure is decided, shared by fail_job (mode 'any': a pending or processing
-- job), fail_jobs (mode 'worker': processing and locked by that worker) and rescue_stale_jobs
-- (mode 'rescue': processing, whoever holds it). Counts the attempt, records it in job_attempts,
-- and moves the job to pending with backoff or to dead_letter. Returns the rows it moved.
create function _fail_jobs(mode text, worker text, ids uuid[], messages text[], error_types text[],
                           details jsonb[], retryable boolean[], retry_after_s int[])
returns table (job_id uuid, new_status text)
language sql volatile as $$
  with input as (
    select distinct on (t.id) t.id, t.msg, t.etype, t.det, t.retry, t.after
    from unnest(ids, messages, error_types, details, retryable, retry_after_s)
         as t(id, msg, etype, det, retry, after)
    where t.id is not null
    order by t.id
  ), target as (
    select j.id, j.attempt_count + 1 as attempt, j.max_attempts, j.locked_by as old_worker,
           left(coalesce(i.msg, ''), 10000) as msg, coalesce(nullif(i.etype, ''), 'unknown') as etype,
           i.det, coalesce(i.retry, true) as retry, greatest(i.after, 0) as after,
           q.backoff_base_s, q.backoff_cap_s, q.backoff_schedule_s
    from input i
    join job_queue j on j.id = i.id
    join queues q on q.name = j.queue
    where case mode
            when 'any' then j.status in ('pending', 'processing')
            when 'worker' then j.status = 'processing' and j.locked_by = worker
            when 'rescue' then j.status = 'processing'
          end
    for update of j
  ), decided as (
    select t.*, t.retry and t.attempt < t.max_attempts as again,
           greatest(backoff_delay_s(t.backoff_base_s, t.backoff_cap_s, t.backoff_schedule_s, t.attempt)
                      * (1 + random() * 0.25),
                    coalesce(t.after, 0)) as wait_s
    from target t
  ), moved as (
    update job_queue j set
      status        = case when d.again then 'pending' else 'dead_letter' end,
      attempt_count = d.attempt,
      next_retry_at = case when d.again then now() + d.wait_s * interval '1 second' end,
      run_at        = case when d.again then now() + d.wait_s * interval '1 second' else j.run_at end,
      locked_by     = null,
      heartbeat_at  = null,
      error_message = d.msg,
      error_type    = d.etype,
      error_details = d.det,
      last_error_at = now()
    from decided d
    where j.id = d.id
    returning j.id, j.status, d.attempt, d.etype, d.msg, d.det, coalesce(d.old_worker, worker) as worker
  ), logged as (
    insert into job_attempts (job_id, attempt, error_type, error_message, error_details, worker, failed_at)
    select m.id, m.attempt, m.etype, m.msg, m.det, m.worker, now() from moved m
  )
  select m.id, m.status from moved m
$$;

-- The one claim statement: up to max_jobs due pending jobs of the given queues, best first
-- (priority desc, run_at, id). Each queue is scanned along its own claim index with SKIP LOCKED,
-- so concurrent claimers take disjoint rows without waiting on each other.
create function _claim(worker text, queue_names text[], max_jobs int)
returns table (id uuid, queue text, job_type text, payload jsonb, attempt_count int,
               max_attempts int, priority int, created_at timestamptz)
language sql volatile as $$
  with picked as (
    select c.id
    from unnest(queue_names) as q(name)
    cross join lateral (
      select j.id, j.priority, j.run_at
      from job_queue j
      where j.queue = q.name and j.status = 'pending' and j.run_at <= now()
        and (j.next_retry_at is null or j.next_retry_at <= now())
      order by j.priority desc, j.run_at, j.id
      limit max_jobs
      for update skip locked
    ) c
    order by c.priority desc, c.run_at, c.id
    limit max_jobs
  )
  update job_queue j
  set status = 'processing', started_at = now(), heartbeat_at = now(), locked_by = worker
  from picked
  where j.id = picked.id
  returning j.id, j.queue, j.job_type, j.payload, j.attempt_count, j.max_attempts, j.priority, j.created_at
$$;

-- =============================================================================================
-- Enqueue

-- The one enqueue statement behind enqueue_job and enqueue_jobs. Arrays are parallel (one element
-- per job). A job whose (queue, dedup_key) already has a pending or processing job is not
-- inserted; its result is the existing job's id with deduplicated = true. The unique index and
-- ON CONFLICT make this race-safe; the retry below covers a holder finishing mid-statement.
create function _enqueue(p_queues text[], p_types text[], p_payloads jsonb[], p_priorities int[],
                         p_run_ats timestamptz[], p_dedup_keys text[], p_max_attempts int[])
returns table (ord int, id uuid, deduplicated boolean)
language plpgsql volatile as $$
#variable_conflict use_column
declare
  n int := coalesce(cardinality(p_queues), 0);
  v_ids uuid[];
  v_dedup boolean[];
  v_notify text[];
  v_big int;
  i int;
begin
  perform _check_batch_size(n, 'number of jobs');
  if array_position(p_queues, null) is not null then
    raise exception 'job % has no queue', array_position(p_queues, null) using errcode = '22023';
  end if;
  if exists (select 1 from unnest(p_types) t where t is null or t = '')
     or coalesce(cardinality(p_types), 0) <> n then
    raise exception 'every job needs a non-empty job type' using errcode = '22023';
  end if;
  select min(x.k) into v_big from unnest(p_payloads) with ordinality x(v, k)
   where octet_length(x.v::text) > 1048576;
  if v_big is not null then
    raise exception 'payload of job % is % bytes; the limit is 1 MiB (1048576 bytes)',
      v_big, octet_length(p_payloads[v_big]::text)
      using errcode = '54000', hint = 'Store large data elsewhere and put a reference in the payload.';
  end if;

  -- Unknown queues are created with default settings: producers need no setup step.
  insert into queues (name)
  select distinct x.q from unnest(p_queues) x(q)
  where not exists (select 1 from queues where name = x.q)
  on conflict do nothing;

  with input as (
    select t.k::int as k, uuid_v7() as new_id, t.q, t.typ, coalesce(t.payload, '{}') as payload,
           coalesce(t.prio, 0) as prio, coalesce(t.at, now()) as at, t.dk,
           coalesce(t.ma, qq.max_attempts) as ma
    from unnest(p_queues, p_types, p_payloads, p_priorities, p_run_ats, p_dedup_keys, p_max_attempts)
         with ordinality as t(q, typ, payload, prio, at, dk, ma, k)
    join queues qq on qq.name = t.q
  ), ins as (
    insert into job_queue (id, queue, job_type, payload, priority, run_at, dedup_key, max_attempts)
    select new_id, q, typ, payload, prio, at, dk, ma from input order by k
    on conflict (queue, dedup_key) where status in ('pending', 'processing') and dedup_key is not null
    do nothing
    returning job_queue.id, job_queue.queue, job_queue.dedup_key
  )
  select array_agg(coalesce(mine.id, twin.id, active.id) order by i.k),
         array_agg(mine.id is null order by i.k),
         array_agg(distinct i.q) filter (where mine.id is not null)
    into v_ids, v_dedup, v_notify
  from input i
  left join ins mine on mine.id = i.new_id
  left join lateral (select x.id from ins x
                     where mine.id is null and x.queue = i.q and x.dedup_key = i.dk limit 1) twin on true
  left join lateral (select a.id from job_queue a
                     where mine.id is null and twin.id is null and a.queue = i.q and a.dedup_key = i.dk
                       and a.status in ('pending', 'processing') limit 1) active on true;

  if coalesce(cardinality(v_ids), 0) <> n then  -- the join with queues lost a row: cannot happen
    raise exception 'enqueue lost % job(s)', n - coalesce(cardinality(v_ids), 0);
  end if;
  -- The active job holding a dedup key finished between our insert and our lookup: try again.
  for i in 1 .. n loop
    if v_ids[i] is null then
      select e.id, e.deduplicated into v_ids[i], v_dedup[i]
      from _enqueue(array[p_queues[i]], array[p_types[i]], array[p_payloads[i]], array[p_priorities[i]],
                    array[p_run_ats[i]], array[p_dedup_keys[i]], array[p_max_attempts[i]]) e;
    end if;
  end loop;

  perform pg_notify('queuetop_jobs', x.q) from unnest(v_notify) x(q);
  return query select x.k::int, x.id, x.d from unnest(v_ids, v_dedup) with ordinality x(id, d, k);
end $$;

-- Enqueues one job; returns its id, or the id of the active job with the same dedup key.
-- run_at null = now; max_attempts null = the queue's setting. Unknown queues are auto-created.
create function enqueue_job(queue text, job_type text, payload jsonb default '{}',
                            priority int default 0, run_at timestamptz default null,
                            dedup_key text default null, max_attempts int default null)
returns uuid
language sql volatile as $$
  select e.id from _enqueue(array[$1], array[$2], array[$3], array[$4], array[$5], array[$6], array[$7]) e
$$;

-- Enqueues a batch in one statement. `jobs` is a JSON array of objects
--   {"queue": text, "type": text, "payload": json, "priority": int, "run_at": timestamptz,
--    "dedup_key": text, "max_attempts": int}   (queue and type required)
-- Returns one row per input element, in input order: (ord, id, deduplicated).
create function enqueue_jobs(jobs jsonb)
returns table (ord int, id uuid, deduplicated boolean)
language plpgsql volatile as $$
declare
  v_q text[]; v_t text[]; v_p jsonb[]; v_pr int[]; v_at timestamptz[]; v_dk text[]; v_ma int[];
  v_unknown text;
begin
  if jobs is null or jsonb_typeof(jobs) <> 'array' then
    raise exception 'jobs must be a JSON array of job objects' using errcode = '22023';
  end if;
  select string_agg(distinct k, ', ') into v_unknown
  from jsonb_array_elements(jobs) e(j), jsonb_object_keys(case when jsonb_typeof(e.j) = 'object' then e.j
                                                          else '{"not an object": 1}' end) k
  where k not in ('queue', 'type', 'payload', 'priority', 'run_at', 'dedup_key', 'max_attempts');
  if v_unknown is not null then
    raise exception 'unknown job field(s): %', v_unknown using errcode = '22023',
      hint = 'Fields: queue, type, payload, priority, run_at, dedup_key, max_attempts.';
  end if;
  select array_agg(e.j ->> 'queue' order by e.k), array_agg(e.j ->> 'type' order by e.k),
         array_agg(e.j -> 'payload' order by e.k), array_agg((e.j ->> 'priority')::int order by e.k),
         array_agg((e.j ->> 'run_at')::timestamptz order by e.k), array_agg(e.j ->> 'dedup_key' order by e.k),
         array_agg((e.j ->> 'max_attempts')::int order by e.k)
    into v_q, v_t, v_p, v_pr, v_at, v_dk, v_ma
  from jsonb_array_elements(jobs) with ordinality e(j, k);
  return query select * from _enqueue(v_q, v_t, v_p, v_pr, v_at, v_dk, v_ma);
end $$;

-- =============================================================================================
-- Worker hot path (docs/DESIGN.md). Worker-side functions act only on rows that are
-- processing AND locked by that worker, so a stale worker cannot touch a rescued job.

-- Claims up to max_jobs jobs from `queues` (null = every queue). Paused queues are skipped.
-- Queues with a concurrency limit or a rate limit are claimed one at a time under a lock (the
-- queues row for the limit, the bucket row for the rate) so the limit holds across every worker
-- process; unlimited queues never take those locks: they are the throughput path.
create function claim_jobs(worker_id text, queues text[], max_jobs int)
returns table (id uuid, queue text, job_type text, payload jsonb, attempt_count int,
               max_attempts int, priority int, created_at timestamptz)
language plpgsql volatile as $$
#variable_conflict use_column
declare
  v_left int := max_jobs;
  v_names text[] := claim_jobs.queues;
  v_free text[];
  v_q queues;
  v_take int;
  v_busy int;
  v_tokens double precision;
  v_n int;
begin
  perform _check_batch_size(max_jobs, 'max_jobs');
  if worker_id is null or worker_id = '' then
    raise exception 'worker_id is required' using errcode = '22023';
  end if;

  for v_q in
    select * from public.queues q
    where (v_names is null or q.name = any(v_names)) and not q.paused
      and (q.concurrency_limit is not null or q.rate_limit_per_s is not null)
    order by q.name                                     -- one lock order: no deadlocks
  loop
    exit when v_left <= 0;
    v_take := v_left;
    if v_q.concurrency_limit is not null then
      select * into v_q from public.queues q where q.name = v_q.name and not q.paused
        for no key update;                              -- not FOR UPDATE: enqueue's FK check must not wait
      continue when not found or v_q.concurrency_limit is null;
      select count(*) into v_busy from job_queue j where j.queue = v_q.name and j.status = 'processing';
      v_take := least(v_take, v_q.concurrency_limit - v_busy);
    end if;
    if v_q.rate_limit_per_s is not null and v_take > 0 then
      insert into queue_rate_buckets (queue, tokens, refilled_at)
      values (v_q.name, greatest(1, v_q.rate_limit_per_s), clock_timestamp())
      on conflict do nothing;
      -- Refill at rate_limit_per_s per second up to a burst of one second's worth (at least 1).
      select least(greatest(1, v_q.rate_limit_per_s)::double precision,
                   b.tokens + greatest(0, extract(epoch from clock_timestamp() - b.refilled_at))
                              * v_q.rate_limit_per_s)
        into v_tokens
      from queue_rate_buckets b where b.queue = v_q.name for update;
      v_take := least(v_take, floor(v_tokens)::int);
    end if;
    if v_take > 0 then
      return query select * from _claim(worker_id, array[v_q.name], v_take);
      get diagnostics v_n = row_count;
      v_left := v_left - v_n;
      if v_q.rate_limit_per_s is not null and v_n > 0 then
        update queue_rate_buckets set tokens = v_tokens - v_n, refilled_at = clock_timestamp()
        where queue = v_q.name;
      end if;
    end if;
  end loop;

  if v_left > 0 then
    select array_agg(q.name) into v_free from public.queues q
    where (v_names is null or q.name = any(v_names)) and not q.paused
      and q.concurrency_limit is null and q.rate_limit_per_s is null;
    if v_free is not null then
      return query select * from _claim(worker_id, v_free, v_left);
    end if;
  end if;
end $$;

-- Marks jobs completed in one statement. processing_ms null (or a shorter array) = measured
-- from started_at. Returns how many jobs this worker still held and completed.
create function complete_jobs(worker_id text, ids uuid[], processing_ms int[] default null)
returns int
language sql volatile as $$
  with done as (
    update job_queue j
    set status = 'completed', completed_at = now(), locked_by = null, heartbeat_at = null,
        processing_time_ms = greatest(0, coalesce(t.ms,
                               (extract(epoch from now() - j.started_at) * 1000)::int))
    from unnest($2, $3) as t(id, ms)
    where j.id = t.id and j.status = 'processing' and j.locked_by = $1
    returning 1
  )
  select count(*)::int from done
$$;

-- Seed API: fails one pending or processing job. Returns the job's new status ('pending' when it
-- will be retried after backoff, 'dead_letter' otherwise). Unknown id or another status: error.
create function fail_job(job_id uuid, error_message text, error_type text, error_details jsonb,
                         is_retryable boolean default true)
returns text
language plpgsql volatile as $$
declare v_status text;
begin
  select f.new_status into v_status
  from _fail_jobs('any', null, array[fail_job.job_id], array[fail_job.error_message],
                  array[fail_job.error_type], array[fail_job.error_details],
                  array[coalesce(is_retryable, true)], null::int[]) f;
  if v_status is null then
    select j.status into v_status from job_queue j where j.id = fail_job.job_id;
    if v_status is null then
      raise exception 'unknown job %', fail_job.job_id using errcode = 'P0002';
    end if;
    raise exception 'job % is %; only a pending or processing job can fail', fail_job.job_id, v_status
      using errcode = '55000';
  end if;
  return v_status;
end $$;

-- Batch failure for workers: arrays are parallel to ids; details, retryable and retry_after_s
-- may be null (no details, retryable, no minimum). Returns how many jobs were failed.
create function fail_jobs(worker_id text, ids uuid[], messages text[], error_types text[],
                          details jsonb[] default null, retryable boolean[] default null,
                          retry_after_s int[] default null)
returns int
language plpgsql volatile as $$
declare n int := coalesce(cardinality(ids), 0);
begin
  if n = 0 then return 0; end if;
  perform _check_batch_size(n, 'number of jobs');
  if coalesce(cardinality(messages), n) <> n or coalesce(cardinality(error_types), n) <> n
     or coalesce(cardinality(details), n) <> n or coalesce(cardinality(retryable), n) <> n
     or coalesce(cardinality(retry_after_s), n) <> n then
    raise exception 'fail_jobs: every array must have one element per id (% ids)', n using errcode = '22023';
  end if;
  select count(*) into n
  from _fail_jobs('worker', worker_id, ids, messages, error_types, details, retryable, retry_after_s);
  return n;
end $$;

-- Gives unfinished jobs back (graceful shutdown): pending again at once, no attempt counted.
create function release_jobs(worker_id text, ids uuid[]) returns int
language plpgsql volatile as $$
#variable_conflict use_column
declare v_queues text[]; n int;
begin
  with rel as (
    update job_queue j set status = 'pending', locked_by = null, heartbeat_at = null
    where j.id = any(release_jobs.ids) and j.status = 'processing' and j.locked_by = release_jobs.worker_id
    returning j.queue
  )
  select count(*), array_agg(distinct rel.queue) into n, v_queues from rel;
  perform pg_notify('queuetop_jobs', x.q) from unnest(v_queues) x(q);
  return n;
end $$;

-- Proves the worker is alive. Touches no indexed column, so it is a HOT update. Returns how many
-- of the jobs the worker still holds (fewer means some were rescued and must be abandoned).
create function heartbeat_jobs(worker_id text, ids uuid[]) returns int
language sql volatile as $$
  with hb as (
    update job_queue j set heartbeat_at = now()
    where j.id = any($2) and j.status = 'processing' and j.locked_by = $1
    returning 1
  )
  select count(*)::int from hb
$$;

-- Recovers jobs whose worker went silent: processing with no heartbeat (or start) for longer than
-- the queue's visibility_timeout_s. Counted as a failed attempt of type 'worker_lost' (so a job
-- that kills its worker ends in the DLQ instead of looping), retried with backoff or dead-lettered.
create function rescue_stale_jobs(max_jobs int default 1000) returns int
language plpgsql volatile as $$
declare v_ids uuid[]; v_msgs text[]; n int;
begin
  perform _check_batch_size(max_jobs, 'max_jobs');
  select array_agg(s.id), array_agg(s.msg) into v_ids, v_msgs
  from (
    select j.id, format('worker %s went silent: no heartbeat since %s (visibility timeout %s s)',
                        coalesce(j.locked_by, '?'), coalesce(j.heartbeat_at, j.started_at),
                        q.visibility_timeout_s) as msg
    from job_queue j join queues q on q.name = j.queue
    where j.status = 'processing'
      and coalesce(j.heartbeat_at, j.started_at) < now() - q.visibility_timeout_s * interval '1 second'
    order by j.started_at
    limit max_jobs
    for update of j skip locked
  ) s;
  if v_ids is null then return 0; end if;
  select count(*) into n
  from _fail_jobs('rescue', null, v_ids, v_msgs, array_fill('worker_lost'::text, array[cardinality(v_ids)]),
                  null, null, null);
  return n;
end $$;

-- =============================================================================================
-- DLQ: requeue and delete. Every path goes through _requeue_dlq, which only touches dead_letter
-- rows, so two operators racing on the same jobs requeue each exactly once.

-- Moves the given dead_letter jobs back to pending, due now. A job whose dedup key is held by an
-- active job stays in the DLQ (the active job already does its work); of two dead jobs with the
-- same key in one call, only the older is requeued. Returns the queues of the requeued jobs.
create function _requeue_dlq(ids uuid[], reset_attempts boolean) returns setof text
language sql volatile as $$
  with target as (
    select j.id from job_queue j
    where j.id = any(ids) and j.status = 'dead_letter'
      and (j.dedup_key is null or not exists (
            select 1 from job_queue a
            where a.queue = j.queue and a.dedup_key = j.dedup_key
              and (a.status in ('pending', 'processing')
                   or (a.status = 'dead_letter' and a.id < j.id and a.id = any(ids)))))
    for update of j
  )
  update job_queue j
  set status = 'pending', run_at = now(), next_retry_at = null, locked_by = null, heartbeat_at = null,
      attempt_count = case when coalesce(reset_attempts, true) then 0 else j.attempt_count end
  from target t
  where j.id = t.id
  returning j.queue
$$;

-- Seed API: requeues one dead_letter job (reset_attempts: start counting attempts again).
-- Refuses, with the reason, an unknown id, a job in another status, or a dedup conflict.
create function requeue_dlq_job(job_id uuid, reset_attempts boolean default true) returns boolean
language plpgsql volatile as $$
declare v_job job_queue; v_holder uuid; v_queue text;
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
  select q into v_queue from _requeue_dlq(array[job_id], reset_attempts) q;
  perform pg_notify('queuetop_jobs', v_queue);
  perform record_audit('dlq.requeue',
    jsonb_build_object('ids', jsonb_build_array(job_id), 'reset_attempts', reset_attempts), 1);
  return true;
end $$;

-- Requeues marked jobs; ids that are no longer dead_letter are skipped. Returns the count.
create function requeue_dlq_jobs(ids uuid[], reset_attempts boolean default true) returns int
language plpgsql volatile as $$
declare v_queues text[]; n int;
begin
  perform _check_batch_size(cardinality(ids), 'number of ids');
  select count(*), array_agg(distinct q) into n, v_queues from _requeue_dlq(ids, reset_attempts) q;
  perform pg_notify('queuetop_jobs', x.q) from unnest(v_queues) x(q);
  perform record_audit('dlq.requeue', _audit_ids(ids) || jsonb_build_object('reset_attempts', reset_attempts), n);
  return n;
end $$;

-- One short batch of a bulk requeue: up to batch_size dead_letter jobs of `queue` (null = all)
-- and `error_type` (null = all) whose last error is at or before as_of (null = now), so the
-- operator requeues what they previewed and not the failures that arrive meanwhile. Rows locked
-- by someone else are skipped. The client calls again until it returns 0 (or CALL requeue_dlq).
-- audit_id: a row from record_audit('dlq.requeue', …) to add this batch's count to; null = this
-- call gets its own audit row.
create function requeue_dlq_batch(queue text, error_type text, reset_attempts boolean,
                                  as_of timestamptz, batch_size int, audit_id bigint default null)
returns int
language plpgsql volatile as $$
declare
  p_queue text := requeue_dlq_batch.queue;
  p_type text := requeue_dlq_batch.error_type;
  p_as_of timestamptz := coalesce(requeue_dlq_batch.as_of, now());
  v_ids uuid[]; v_queues text[]; n int;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  if p_queue is not null then perform _require_queue(p_queue); end if;
  select array_agg(c.id) into v_ids from (
    select j.id from job_queue j
    where j.status = 'dead_letter'
      and (p_queue is null or j.queue = p_queue)
      and (p_type is null or j.error_type = p_type)
      and coalesce(j.last_error_at, j.created_at) <= p_as_of
      and (j.dedup_key is null or not exists (
            select 1 from job_queue a where a.queue = j.queue and a.dedup_key = j.dedup_key
              and a.status in ('pending', 'processing')))
    limit batch_size
    for update of j skip locked
  ) c;
  select count(*), array_agg(distinct q) into n, v_queues
  from _requeue_dlq(coalesce(v_ids, '{}'), reset_attempts) q;
  perform pg_notify('queuetop_jobs', x.q) from unnest(v_queues) x(q);
  perform _audit_add(audit_id, 'dlq.requeue',
    jsonb_build_object('queue', p_queue, 'error_type', p_type, 'as_of', p_as_of,
                       'reset_attempts', reset_attempts), n);
  return n;
end $$;

-- For psql users: the whole bulk requeue, committing after every batch so no lock is held for
-- long. One audit row for the whole action. `CALL requeue_dlq('emails', 'smtp_error');`
create procedure requeue_dlq(queue text default null, error_type text default null,
                             reset_attempts boolean default true, as_of timestamptz default null,
                             batch_size int default 1000, inout requeued bigint default 0)
language plpgsql as $$
declare v_audit bigint; v_as_of timestamptz := coalesce(as_of, now()); n int;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  if queue is not null then perform _require_queue(queue); end if;
  requeued := 0;
  v_audit := record_audit('dlq.requeue', jsonb_build_object('queue', queue, 'error_type', error_type,
                          'as_of', v_as_of, 'reset_attempts', reset_attempts), 0);
  loop
    n := requeue_dlq_batch(queue, error_type, reset_attempts, v_as_of, batch_size, v_audit);
    requeued := requeued + n;
    commit;
    exit when n = 0;
  end loop;
end $$;

-- Deletes the given dead_letter jobs (other ids are skipped). Returns the count.
create function delete_dlq_jobs(ids uuid[]) returns int
language plpgsql volatile as $$
declare n int;
begin
  perform _check_batch_size(cardinality(ids), 'number of ids');
  delete from job_queue j where j.id = any(delete_dlq_jobs.ids) and j.status = 'dead_letter';
  get diagnostics n = row_count;
  perform record_audit('dlq.delete', _audit_ids(ids), n);
  return n;
end $$;

-- One short batch of a bulk DLQ delete; same filter, as_of and audit_id rules as requeue_dlq_batch.
create function delete_dlq_batch(queue text, error_type text, as_of timestamptz, batch_size int,
                                 audit_id bigint default null)
returns int
language plpgsql volatile as $$
declare
  p_queue text := delete_dlq_batch.queue;
  p_type text := delete_dlq_batch.error_type;
  p_as_of timestamptz := coalesce(delete_dlq_batch.as_of, now());
  n int;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  if p_queue is not null then perform _require_queue(p_queue); end if;
  with c as (
    select j.id from job_queue j
    where j.status = 'dead_letter' and (p_queue is null or j.queue = p_queue)
      and (p_type is null or j.error_type = p_type)
      and coalesce(j.last_error_at, j.created_at) <= p_as_of
    limit batch_size
    for update of j skip locked
  )
  delete from job_queue j using c where j.id = c.id;
  get diagnostics n = row_count;
  perform _audit_add(audit_id, 'dlq.delete',
    jsonb_build_object('queue', p_queue, 'error_type', p_type, 'as_of', p_as_of), n);
  return n;
end $$;

-- Cancels a pending job (a running one cannot be recalled: let it finish or fail).
create function cancel_job(job_id uuid) returns boolean
language plpgsql volatile as $$
declare v_status text;
begin
  select j.status into v_status from job_queue j where j.id = cancel_job.job_id for update;
  if not found then
    raise exception 'unknown job %', job_id using errcode = 'P0002';
  end if;
  if v_status <> 'pending' then
    raise exception 'job % is %; only a pending job can be cancelled', job_id, v_status using errcode = '55000';
  end if;
  update job_queue j set status = 'cancelled', completed_at = now() where j.id = cancel_job.job_id;
  perform record_audit('job.cancel', jsonb_build_object('ids', jsonb_build_array(job_id)), 1);
  return true;
end $$;

-- =============================================================================================
-- Queue settings (operator actions, audited). Each returns the queue's row after the change.

-- Applies a JSON object of settings, e.g. {"concurrency_limit": 3, "backoff_schedule_s": [300,900,1800]}.
-- JSON null clears a nullable setting. Unknown keys and out-of-range values are refused.
create function update_queue_settings(queue_name text, settings jsonb) returns queues
language plpgsql volatile as $$
declare v_bad text; r queues; s jsonb := coalesce(settings, '{}');
begin
  perform _require_queue(queue_name);
  if jsonb_typeof(s) <> 'object' then
    raise exception 'settings must be a JSON object' using errcode = '22023';
  end if;
  select string_agg(k, ', ') into v_bad from jsonb_object_keys(s) k
  where k not in ('paused', 'concurrency_limit', 'max_attempts', 'backoff_base_s', 'backoff_cap_s',
                  'backoff_schedule_s', 'visibility_timeout_s', 'rate_limit_per_s', 'retention_s',
                  'dlq_alert_threshold', 'oldest_pending_alert_s', 'error_rate_alert');
  if v_bad is not null then
    raise exception 'unknown queue setting(s): %', v_bad using errcode = '22023',
      hint = 'Settings: paused, concurrency_limit, max_attempts, backoff_base_s, backoff_cap_s, '
             'backoff_schedule_s, visibility_timeout_s, rate_limit_per_s, retention_s, '
             'dlq_alert_threshold, oldest_pending_alert_s, error_rate_alert.';
  end if;
  update queues q set
    paused = case when s ? 'paused' then coalesce((s ->> 'paused')::boolean, false) else q.paused end,
    concurrency_limit = case when s ? 'concurrency_limit' then (s ->> 'concurrency_limit')::int else q.concurrency_limit end,
    max_attempts = case when s ? 'max_attempts' then (s ->> 'max_attempts')::int else q.max_attempts end,
    backoff_base_s = case when s ? 'backoff_base_s' then (s ->> 'backoff_base_s')::int else q.backoff_base_s end,
    backoff_cap_s = case when s ? 'backoff_cap_s' then (s ->> 'backoff_cap_s')::int else q.backoff_cap_s end,
    backoff_schedule_s = case when not s ? 'backoff_schedule_s' then q.backoff_schedule_s
                              when jsonb_typeof(s -> 'backoff_schedule_s') = 'null' then null
                              else array(select x::int from jsonb_array_elements_text(s -> 'backoff_schedule_s') x) end,
    visibility_timeout_s = case when s ? 'visibility_timeout_s' then (s ->> 'visibility_timeout_s')::int else q.visibility_timeout_s end,
    rate_limit_per_s = case when s ? 'rate_limit_per_s' then (s ->> 'rate_limit_per_s')::numeric else q.rate_limit_per_s end,
    retention_s = case when s ? 'retention_s' then (s ->> 'retention_s')::int else q.retention_s end,
    dlq_alert_threshold = case when s ? 'dlq_alert_threshold' then (s ->> 'dlq_alert_threshold')::int else q.dlq_alert_threshold end,
    oldest_pending_alert_s = case when s ? 'oldest_pending_alert_s' then (s ->> 'oldest_pending_alert_s')::int else q.oldest_pending_alert_s end,
    error_rate_alert = case when s ? 'error_rate_alert' then (s ->> 'error_rate_alert')::numeric else q.error_rate_alert end,
    updated_at = now()
  where q.name = queue_name
  returning * into r;
  if s ? 'rate_limit_per_s' then delete from queue_rate_buckets b where b.queue = queue_name; end if;
  perform record_audit('queue.settings', jsonb_build_object('queue', queue_name, 'settings', s), 1);
  -- Resuming or raising a limit can make jobs claimable.
  perform pg_notify('queuetop_jobs', queue_name);
  return r;
end $$;

-- Pause and resume differ only in the flag and the audit action; one body serves both.
create function _set_queue_paused(queue_name text, pause boolean) returns queues
language plpgsql volatile as $$
declare r queues;
begin
  perform _require_queue(queue_name);
  update queues q set paused = pause, updated_at = now() where q.name = queue_name returning * into r;
  perform record_audit(case when pause then 'queue.pause' else 'queue.resume' end,
                       jsonb_build_object('queue', queue_name), 1);
  -- Resuming makes the queue's due jobs claimable: wake the workers.
  if not pause then perform pg_notify('queuetop_jobs', queue_name); end if;
  return r;
end $$;

create function pause_queue(queue_name text) returns queues
language sql volatile as $$ select _set_queue_paused(queue_name, true) $$;

create function resume_queue(queue_name text) returns queues
language sql volatile as $$ select _set_queue_paused(queue_name, false) $$;

-- concurrency_limit null = unlimited.
create function set_queue_concurrency(queue_name text, concurrency_limit int) returns queues
language plpgsql volatile as $$
declare r queues;
begin
  perform _require_queue(queue_name);
  if concurrency_limit is not null and (concurrency_limit < 1 or concurrency_limit > 100000) then
    raise exception 'concurrency limit must be between 1 and 100000 (or null for unlimited), got %',
      concurrency_limit using errcode = '22023', hint = 'To stop a queue, pause it.';
  end if;
  update queues q set concurrency_limit = set_queue_concurrency.concurrency_limit, updated_at = now()
  where q.name = queue_name returning * into r;
  perform record_audit('queue.scale',
    jsonb_build_object('queue', queue_name, 'concurrency_limit', set_queue_concurrency.concurrency_limit), 1);
  perform pg_notify('queuetop_jobs', queue_name);
  return r;
end $$;

-- =============================================================================================
-- Retention: deletes up to batch_size completed or cancelled jobs older than their queue's
-- retention_s. It walks the primary key from the oldest id (ids are time-ordered and a job
-- completes after it is created), so completion needs no extra index. Call until it returns 0.
create function prune_completed_jobs(batch_size int default 1000) returns int
language plpgsql volatile as $$
declare n int; v_bound uuid;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  select _uuid_v7_floor(now() - min(q.retention_s) * interval '1 second') into v_bound from queues q;
  if v_bound is null then return 0; end if;
  with victims as (
    select j.id from job_queue j join queues q on q.name = j.queue
    where j.id < v_bound and j.status in ('completed', 'cancelled')
      and coalesce(j.completed_at, j.created_at) < now() - q.retention_s * interval '1 second'
    order by j.id
    limit batch_size
    for update of j skip locked
  )
  delete from job_queue j using victims v where j.id = v.id;
  get diagnostics n = row_count;
  return n;
end $$;

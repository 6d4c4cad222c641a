-- Jobs: enqueue, claim, complete, fail, release, heartbeat, rescue, expiry, cancel, queue
-- settings, tenants and retention.
--
-- The public function names and argument order follow the seed documents (fail_job,
-- requeue_dlq_job, enqueue_job) and docs/DESIGN.md (worker batch functions): apps call them over
-- RPC, so they are a contract. Names starting with `_` are internal.
--
-- Conventions
--   * attempt_count counts FAILED attempts; the attempt a handler is running is attempt_count + 1.
--   * Batch functions refuse a batch size below 1 or above 100000 (nothing is changed).
--   * Operator actions write audit_log rows (see record_audit) and NOTIFY queuetop_changed;
--     jobs becoming claimable NOTIFY queuetop_jobs with the queue name, once per statement.
--   * Status moves: pending -> processing -> completed | pending (retry, release, rescue)
--     | dead_letter; pending -> cancelled | dead_letter (fail_job on a pending job); dead_letter
--     -> pending (requeue, 30_dlq.sql) or deleted.
--   * The functions workers and producers call (enqueue, claim, complete, fail, heartbeat,
--     release, rescue, expiry, retention) run with `set jit = off`. Each touches at most one
--     batch of rows through an index, but its statements are planned with their arguments as
--     parameters, so at millions of rows the planner prices them as if they read a queue's whole
--     backlog (the claim: ~1.7 M cost units for 100 rows at 10 M rows) and JIT-compiles them on
--     every call: 0.3-1.1 s of LLVM compile for a claim whose execution took ~17 ms
--     (auto_explain, docs/BENCHMARKS.md "Job explorer"). A SET clause costs no inlining here:
--     these functions already carry search_path (90_privileges.sql).
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- =============================================================================================
-- Enqueue

-- The one enqueue statement behind enqueue_job and enqueue_jobs. Arrays are parallel (one element
-- per job). A job whose (queue, dedup_key) already has a pending or processing job is not
-- inserted; its result is the existing job's id with deduplicated = true. The unique index and
-- ON CONFLICT make this race-safe; the retry below covers a holder finishing mid-statement.
-- Per-job inputs beyond queue, type, payload, priority, run_at, dedup_key and max_attempts:
--   unique_for_s  with a dedup_key: when a job of that key COMPLETED within the last
--                 unique_for_s seconds, no job is queued; the answer is that job's id, status
--                 'completed' and its stored result (a cache hit). A completed job wins over an
--                 active one: its result is fresh enough by the caller's own definition.
--   expires_at    must be in the future and after run_at (else the job could never run).
--   tenant        1-200 characters, no control characters.
-- run_at and expires_at lie between 1970-01-01 and 9999-12-31 (no infinity). Each job records
-- the role that enqueued it (enqueued_by = _caller_role(), below): job_status() shows a role its
-- own jobs only, and a cache hit (unique_for_s) returns the result of a job the same role
-- enqueued, never another role's.
-- Each answer row says the job's status ('pending' for a new job, the active twin's status, or
-- 'completed' for a cache hit) and, for a cache hit, the result.
-- Who is calling, for "own jobs" (enqueued_by, job_status): the role the caller acts as. That is
-- the role chosen by SET ROLE when there is one, else the login role. Under Supabase's PostgREST
-- every request logs in as `authenticator` and then runs SET ROLE anon / authenticated /
-- service_role, so session_user alone would make those API roles one identity. Inside a
-- SECURITY DEFINER function current_setting('role') still holds the caller's SET ROLE (DEFINER
-- changes current_user, not that setting), and SET ROLE needs membership in the role, so a
-- caller can be only a role it may become. RESET ROLE reads 'none'. Internal: no grants.
create or replace function _caller_role() returns text
language sql stable as $$
  select coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user)::text
$$;

create or replace function _enqueue(p_queues text[], p_types text[], p_payloads jsonb[], p_priorities int[],
                                    p_run_ats timestamptz[], p_dedup_keys text[], p_max_attempts int[],
                                    p_unique_for_s int[], p_expires_ats timestamptz[], p_tenants text[])
returns table (ord int, id uuid, deduplicated boolean, status text, result jsonb)
language plpgsql volatile as $$
#variable_conflict use_column
declare
  n int := coalesce(cardinality(p_queues), 0);
  v_ids uuid[];
  v_dedup boolean[];
  v_status text[];
  v_result jsonb[];
  v_notify text[];
  v_big int;
  v_bad int;
  v_by text := _caller_role();
  r record;
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
  -- The new inputs, checked before anything is written (a bad job refuses the whole batch).
  select min(x.k) into v_bad from unnest(p_unique_for_s, p_dedup_keys) with ordinality x(u, dk, k)
   where x.u is not null and x.dk is null;
  if v_bad is not null then
    raise exception 'job % has unique_for_s but no dedup_key', v_bad using errcode = '22023',
      hint = 'unique_for_s makes a dedup key unique for a period after its job completed; give the key.';
  end if;
  select min(x.k) into v_bad from unnest(p_unique_for_s) with ordinality x(u, k)
   where x.u not between 1 and 31536000;
  if v_bad is not null then
    raise exception 'job %: unique_for_s must be between 1 and 31536000 (a year), got %',
      v_bad, p_unique_for_s[v_bad] using errcode = '22023';
  end if;
  select min(x.k) into v_bad from unnest(p_run_ats) with ordinality x(at, k) where not _sane_time(x.at);
  if v_bad is not null then
    raise exception 'job %: run_at must be between 1970-01-01 and 9999-12-31 (UTC), got %', v_bad, p_run_ats[v_bad]
      using errcode = '22023', hint = 'Give a real date and time (null = now); infinity is not accepted.';
  end if;
  select min(x.k) into v_bad from unnest(p_expires_ats) with ordinality x(e, k) where not _sane_time(x.e);
  if v_bad is not null then
    raise exception 'job %: expires_at must be between 1970-01-01 and 9999-12-31 (UTC), got %', v_bad, p_expires_ats[v_bad]
      using errcode = '22023', hint = 'Give a real date and time (null = never expires); infinity is not accepted.';
  end if;
  select min(x.k) into v_bad from unnest(p_expires_ats, p_run_ats) with ordinality x(e, at, k)
   where x.e is not null and (x.e <= now() or x.e <= coalesce(x.at, now()));
  if v_bad is not null then
    raise exception 'job % expires at %, which is not after both now and its run_at', v_bad, p_expires_ats[v_bad]
      using errcode = '22023', hint = 'A job that expires before it may run would never run.';
  end if;
  select min(x.k) into v_bad from unnest(p_tenants) with ordinality x(t, k)
   where x.t is not null and (length(x.t) not between 1 and 200 or x.t ~ '[[:cntrl:]]');
  if v_bad is not null then
    raise exception 'job %: a tenant key is 1 to 200 characters without control characters', v_bad
      using errcode = '22023';
  end if;

  -- Unknown queues are created with default settings: producers need no setup step.
  insert into queues (name)
  select distinct x.q from unnest(p_queues) x(q)
  where not exists (select 1 from queues where name = x.q)
  on conflict do nothing;

  with input as (
    select t.k::int as k, uuid_v7() as new_id, t.q, t.typ, coalesce(t.payload, '{}') as payload,
           coalesce(t.prio, 0) as prio, coalesce(t.at, now()) as at, t.dk,
           coalesce(t.ma, qq.max_attempts) as ma, t.uf, t.exp, t.ten
    from unnest(p_queues, p_types, p_payloads, p_priorities, p_run_ats, p_dedup_keys, p_max_attempts,
                p_unique_for_s, p_expires_ats, p_tenants)
         with ordinality as t(q, typ, payload, prio, at, dk, ma, uf, exp, ten, k)
    join queues qq on qq.name = t.q
  ), cached as (
    select i.k, c.id, c.result
    from input i
    cross join lateral (select d.id, d.result from job_queue d
                        where i.uf is not null and d.queue = i.q and d.dedup_key = i.dk
                          and d.status = 'completed' and d.enqueued_by = v_by
                          and d.completed_at >= now() - make_interval(secs => i.uf)
                        order by d.completed_at desc limit 1) c
  ), ins as (
    insert into job_queue (id, queue, job_type, payload, priority, run_at, dedup_key, max_attempts,
                           expires_at, tenant, enqueued_by)
    select new_id, q, typ, payload, prio, at, dk, ma, exp, ten, v_by from input
    where not exists (select 1 from cached c where c.k = input.k)
    order by k
    on conflict (queue, dedup_key) where status in ('pending', 'processing') and dedup_key is not null
    do nothing
    returning job_queue.id, job_queue.queue, job_queue.dedup_key
  )
  select array_agg(coalesce(hit.id, mine.id, twin.id, active.id) order by i.k),
         array_agg(mine.id is null order by i.k),
         array_agg(case when hit.id is not null then 'completed'
                        when mine.id is not null or twin.id is not null then 'pending'
                        else active.status end order by i.k),
         array_agg(hit.result order by i.k),
         array_agg(distinct i.q) filter (where mine.id is not null)
    into v_ids, v_dedup, v_status, v_result, v_notify
  from input i
  left join cached hit on hit.k = i.k
  left join ins mine on mine.id = i.new_id
  left join lateral (select x.id from ins x
                     where hit.id is null and mine.id is null and x.queue = i.q and x.dedup_key = i.dk
                     limit 1) twin on true
  left join lateral (select a.id, a.status from job_queue a
                     where hit.id is null and mine.id is null and twin.id is null
                       and a.queue = i.q and a.dedup_key = i.dk
                       and a.status in ('pending', 'processing') limit 1) active on true;

  if coalesce(cardinality(v_ids), 0) <> n then  -- the join with queues lost a row: cannot happen
    raise exception 'enqueue lost % job(s)', n - coalesce(cardinality(v_ids), 0);
  end if;
  -- The active job holding a dedup key finished between our insert and our lookup: try again.
  for i in 1 .. n loop
    if v_ids[i] is null then
      select e.id, e.deduplicated, e.status, e.result into r
      from _enqueue(array[p_queues[i]], array[p_types[i]], array[p_payloads[i]], array[p_priorities[i]],
                    array[p_run_ats[i]], array[p_dedup_keys[i]], array[p_max_attempts[i]],
                    array[p_unique_for_s[i]], array[p_expires_ats[i]], array[p_tenants[i]]) e;
      v_ids[i] := r.id; v_dedup[i] := r.deduplicated; v_status[i] := r.status; v_result[i] := r.result;
    end if;
  end loop;

  perform pg_notify('queuetop_jobs', x.q) from unnest(v_notify) x(q);
  return query select x.k::int, x.id, x.d, x.s, x.res
               from unnest(v_ids, v_dedup, v_status, v_result) with ordinality x(id, d, s, res, k);
end $$;

-- Enqueues one job; returns its id, the id of the active job with the same dedup key, or (with
-- unique_for_s) the id of the job of that key that completed within the period.
create or replace function enqueue_job(queue text, job_type text, payload jsonb default '{}',
                                       priority int default 0, run_at timestamptz default null,
                                       dedup_key text default null, max_attempts int default null,
                                       unique_for_s int default null, expires_at timestamptz default null,
                                       tenant text default null)
returns uuid
language sql volatile set jit = off as $$
  select e.id from _enqueue(array[$1], array[$2], array[$3], array[$4], array[$5], array[$6], array[$7],
                            array[$8], array[$9], array[$10]) e
$$;

-- Enqueues a batch in one statement. `jobs` is a JSON array of objects
--   {"queue": text, "type": text, "payload": json, "priority": int, "run_at": timestamptz,
--    "dedup_key": text, "max_attempts": int, "unique_for_s": int, "expires_at": timestamptz,
--    "tenant": text}   (queue and type required)
-- Returns one row per input element, in input order: (ord, id, deduplicated, status, result).
create or replace function enqueue_jobs(jobs jsonb)
returns table (ord int, id uuid, deduplicated boolean, status text, result jsonb)
language plpgsql volatile set jit = off as $$
declare
  v_q text[]; v_t text[]; v_p jsonb[]; v_pr int[]; v_at timestamptz[]; v_dk text[]; v_ma int[];
  v_uf int[]; v_exp timestamptz[]; v_ten text[];
  v_unknown text;
begin
  if jobs is null or jsonb_typeof(jobs) <> 'array' then
    raise exception 'jobs must be a JSON array of job objects' using errcode = '22023';
  end if;
  select string_agg(distinct k, ', ') into v_unknown
  from jsonb_array_elements(jobs) e(j), jsonb_object_keys(case when jsonb_typeof(e.j) = 'object' then e.j
                                                          else '{"not an object": 1}' end) k
  where k not in ('queue', 'type', 'payload', 'priority', 'run_at', 'dedup_key', 'max_attempts',
                  'unique_for_s', 'expires_at', 'tenant');
  if v_unknown is not null then
    raise exception 'unknown job field(s): %', v_unknown using errcode = '22023',
      hint = 'Fields: queue, type, payload, priority, run_at, dedup_key, max_attempts, unique_for_s, expires_at, tenant.';
  end if;
  select array_agg(e.j ->> 'queue' order by e.k), array_agg(e.j ->> 'type' order by e.k),
         array_agg(e.j -> 'payload' order by e.k), array_agg((e.j ->> 'priority')::int order by e.k),
         array_agg((e.j ->> 'run_at')::timestamptz order by e.k), array_agg(e.j ->> 'dedup_key' order by e.k),
         array_agg((e.j ->> 'max_attempts')::int order by e.k),
         array_agg((e.j ->> 'unique_for_s')::int order by e.k),
         array_agg((e.j ->> 'expires_at')::timestamptz order by e.k),
         array_agg(e.j ->> 'tenant' order by e.k)
    into v_q, v_t, v_p, v_pr, v_at, v_dk, v_ma, v_uf, v_exp, v_ten
  from jsonb_array_elements(jobs) with ordinality e(j, k);
  return query select * from _enqueue(v_q, v_t, v_p, v_pr, v_at, v_dk, v_ma, v_uf, v_exp, v_ten);
end $$;

-- The producer's lookup: one job's status and result, only when the calling login role enqueued
-- it (enqueued_by = _caller_role(): the role set by SET ROLE, else the login role). Any other id,
-- unknown or someone else's, returns no row, so a producer cannot even learn that it exists.
-- A producer has no privilege on job_queue itself: this function is all it reads.
create or replace function job_status(p_id uuid)
returns table (id uuid, queue text, job_type text, status text, attempts int, max_attempts int,
               result jsonb, error_type text, error_message text, created_at timestamptz,
               run_at timestamptz, started_at timestamptz, completed_at timestamptz,
               last_error_at timestamptz, expires_at timestamptz)
language sql stable as $$
  select j.id, j.queue, j.job_type, j.status, j.attempt_count, j.max_attempts, j.result, j.error_type,
         j.error_message, j.created_at, j.run_at, j.started_at, j.completed_at, j.last_error_at, j.expires_at
  from job_queue j
  where j.id = p_id and j.enqueued_by = _caller_role()
$$;

-- =============================================================================================
-- Claim

-- Marks ids that the caller's statement already locked FOR UPDATE SKIP LOCKED as processing and
-- returns them in claim order (priority desc, run_at, id), so the pool's FIFO work queue runs the
-- best jobs first. Shared by _claim and the tenant path (_claim_tenants). The ids arrive as an
-- array so the UPDATE probes the primary key with `id = any(ids)`, which plans the same whether
-- the values are known or not: a LANGUAGE sql function is planned with its arguments as
-- parameters, and an `UPDATE … FROM picked` join got a generic plan that hashed or scanned
-- job_queue (~75-90 ms a call on 200 k rows, against ~4-12 ms for 100 jobs this way).
create or replace function _claim_ids(worker text, ids uuid[])
returns table (id uuid, queue text, job_type text, payload jsonb, attempt_count int,
               max_attempts int, priority int, created_at timestamptz, tenant text)
language sql volatile as $$
  with claimed as (
    update job_queue j
    set status = 'processing', started_at = now(), heartbeat_at = now(), locked_by = worker
    where j.id = any(ids)
    returning j.id, j.queue, j.job_type, j.payload, j.attempt_count, j.max_attempts, j.priority,
              j.created_at, j.run_at, j.tenant
  )
  select c.id, c.queue, c.job_type, c.payload, c.attempt_count, c.max_attempts, c.priority, c.created_at,
         c.tenant
  from claimed c
  order by c.priority desc, c.run_at, c.id
$$;

-- The claim statement for queues claimed together: up to max_jobs due pending jobs of the given
-- queues, best first (priority desc, run_at, id). Each queue is scanned along its own claim index
-- with FOR UPDATE SKIP LOCKED, so concurrent claimers take disjoint rows without waiting on each
-- other. Expired jobs are skipped (expire_jobs cancels them shortly after); untenanted_only
-- skips jobs of a tenant. Paused queues and limits are decided by claim_jobs.
create or replace function _claim(worker text, queue_names text[], max_jobs int, untenanted_only boolean default false)
returns table (id uuid, queue text, job_type text, payload jsonb, attempt_count int,
               max_attempts int, priority int, created_at timestamptz, tenant text)
language sql volatile as $$
  select * from _claim_ids(worker, array(
    select c.id
    from unnest(queue_names) as q(name)
    cross join lateral (
      select p.id, p.priority, p.run_at
      from job_queue p
      where p.queue = q.name and p.status = 'pending' and p.run_at <= now()
        and (p.next_retry_at is null or p.next_retry_at <= now())
        and (p.expires_at is null or p.expires_at > now())
        and (not untenanted_only or p.tenant is null)
      order by p.priority desc, p.run_at, p.id
      limit max_jobs
      for update skip locked
    ) c
    order by c.priority desc, c.run_at, c.id
    limit max_jobs))
$$;

-- Tokens in a bucket that refills at `rate` per second up to a burst of one second's worth
-- (at least one token), `at` seconds after it held `tokens`.
create or replace function _bucket_level(tokens double precision, refilled_at timestamptz, rate numeric, at timestamptz)
returns double precision
language sql immutable as $$
  select least(greatest(1, rate)::double precision,
               tokens + greatest(0, extract(epoch from at - refilled_at)) * rate::double precision)
$$;

-- Claims up to max_jobs jobs of one tenant-capped queue, tenant by tenant. Called by claim_jobs
-- with the queue's row locked, so the in-flight counts and buckets below cannot race.
-- Tenants are served in the claim order of their best due job, each up to its caps, so a
-- tenant with a flood takes at most its cap and the others' jobs still flow. Jobs without a
-- tenant are not capped per tenant; they take what the tenants left.
create or replace function _claim_tenants(worker text, q queues, max_jobs int)
returns table (id uuid, queue text, job_type text, payload jsonb, attempt_count int,
               max_attempts int, priority int, created_at timestamptz, tenant text)
language plpgsql volatile as $$
#variable_conflict use_column
declare
  v_left int := max_jobs;
  v_take int;
  v_tokens double precision;
  v_n int;
  r record;
begin
  for r in
    -- The tenants with pending jobs, one index probe each (a skip scan over job_queue_tenant_idx).
    with recursive t(tenant) as (
      (select j.tenant from job_queue j
       where j.queue = q.name and j.status = 'pending' and j.tenant is not null
       order by j.tenant limit 1)
      union all
      select (select j.tenant from job_queue j
              where j.queue = q.name and j.status = 'pending' and j.tenant > t.tenant
              order by j.tenant limit 1)
      from t where t.tenant is not null
    ), busy as (
      -- In flight per tenant, in one pass over the queue's processing jobs (at most its in-flight
      -- count) instead of one count per tenant.
      select b.tenant, count(*)::int as n from job_queue b
      where b.queue = q.name and b.status = 'processing' and b.tenant is not null
      group by b.tenant
    )
    select t.tenant, h.priority, h.run_at, h.id, coalesce(busy.n, 0) as busy
    from t
    left join busy on busy.tenant = t.tenant
    cross join lateral (
      select p.priority, p.run_at, p.id from job_queue p
      where p.queue = q.name and p.tenant = t.tenant and p.status = 'pending' and p.run_at <= now()
        and (p.next_retry_at is null or p.next_retry_at <= now())
        and (p.expires_at is null or p.expires_at > now())
      order by p.priority desc, p.run_at, p.id limit 1) h
    where t.tenant is not null
    order by h.priority desc, h.run_at, h.id
  loop
    exit when v_left <= 0;
    v_take := least(v_left, coalesce(q.tenant_concurrency_limit - r.busy, v_left));
    if q.tenant_rate_limit_per_s is not null and v_take > 0 then
      insert into tenant_rate_buckets (queue, tenant, tokens, refilled_at)
      values (q.name, r.tenant, greatest(1, q.tenant_rate_limit_per_s), clock_timestamp())
      on conflict do nothing;
      select _bucket_level(b.tokens, b.refilled_at, q.tenant_rate_limit_per_s, clock_timestamp()) into v_tokens
      from tenant_rate_buckets b where b.queue = q.name and b.tenant = r.tenant for update;
      v_take := least(v_take, floor(v_tokens)::int);
    end if;
    continue when v_take <= 0;
    return query select * from _claim_ids(worker, array(
      select p.id from job_queue p
      where p.queue = q.name and p.tenant = r.tenant and p.status = 'pending' and p.run_at <= now()
        and (p.next_retry_at is null or p.next_retry_at <= now())
        and (p.expires_at is null or p.expires_at > now())
      order by p.priority desc, p.run_at, p.id
      limit v_take
      for update skip locked));
    get diagnostics v_n = row_count;
    v_left := v_left - v_n;
    if q.tenant_rate_limit_per_s is not null and v_n > 0 then
      update tenant_rate_buckets b set tokens = v_tokens - v_n, refilled_at = clock_timestamp()
      where b.queue = q.name and b.tenant = r.tenant;
    end if;
  end loop;
  if v_left > 0 then
    return query select * from _claim(worker, array[q.name], v_left, true);
  end if;
end $$;

-- Claims up to max_jobs jobs from `queues` (null = every queue). Paused queues are skipped.
-- A queue with any limit (concurrency, rate or tenant caps) is claimed on its own, and one whose
-- limit counts running jobs (concurrency_limit, or a tenant cap) under its row lock, so the limit
-- holds across every worker process; a rate-limited queue takes its bucket row's lock. Queues
-- without limits never take those locks: they are the throughput path, one _claim for all of them.
create or replace function claim_jobs(worker_id text, queues text[], max_jobs int)
returns table (id uuid, queue text, job_type text, payload jsonb, attempt_count int,
               max_attempts int, priority int, created_at timestamptz, tenant text)
language plpgsql volatile set jit = off as $$
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
  -- The claim's commit does not wait for its own WAL flush (docs/WORKERS.md "The window").
  -- A claim lost in a server crash never happened: its jobs are pending again, the worker's
  -- complete/fail/heartbeat for them change nothing (they match status 'processing' and
  -- locked_by), and the jobs run again, as after a worker crash. The first synchronous commit
  -- after it (the completion, a heartbeat) flushes the claim's WAL with its own. Set locally,
  -- so it ends with this transaction; a SET clause on the function would be undone when the
  -- function returns, before the commit. Every other function keeps the caller's setting.
  -- The flush was 30-44 % of a claim's time at 10 M rows (scripts/bench.d/NOTES.md).
  perform pg_catalog.set_config('synchronous_commit', 'off', true);

  for v_q in
    select * from queues q
    where (v_names is null or q.name = any(v_names)) and not q.paused
      and (q.concurrency_limit is not null or q.rate_limit_per_s is not null
           or q.tenant_concurrency_limit is not null or q.tenant_rate_limit_per_s is not null)
    order by q.name                                     -- one lock order: no deadlocks
  loop
    exit when v_left <= 0;
    v_take := v_left;
    if v_q.concurrency_limit is not null or v_q.tenant_concurrency_limit is not null
       or v_q.tenant_rate_limit_per_s is not null then
      select * into v_q from queues q where q.name = v_q.name and not q.paused
        for no key update;                              -- not FOR UPDATE: enqueue's FK check must not wait
      continue when not found;
      if v_q.concurrency_limit is not null then
        select count(*) into v_busy from job_queue j where j.queue = v_q.name and j.status = 'processing';
        v_take := least(v_take, v_q.concurrency_limit - v_busy);
      end if;
    end if;
    if v_q.rate_limit_per_s is not null and v_take > 0 then
      insert into queue_rate_buckets (queue, tokens, refilled_at)
      values (v_q.name, greatest(1, v_q.rate_limit_per_s), clock_timestamp())
      on conflict do nothing;
      select _bucket_level(b.tokens, b.refilled_at, v_q.rate_limit_per_s, clock_timestamp()) into v_tokens
      from queue_rate_buckets b where b.queue = v_q.name for update;
      v_take := least(v_take, floor(v_tokens)::int);
    end if;
    if v_take > 0 then
      if v_q.tenant_concurrency_limit is not null or v_q.tenant_rate_limit_per_s is not null then
        return query select * from _claim_tenants(worker_id, v_q, v_take);
      else
        return query select * from _claim(worker_id, array[v_q.name], v_take);
      end if;
      get diagnostics v_n = row_count;
      v_left := v_left - v_n;
      if v_q.rate_limit_per_s is not null and v_n > 0 then
        update queue_rate_buckets set tokens = v_tokens - v_n, refilled_at = clock_timestamp()
        where queue = v_q.name;
      end if;
    end if;
  end loop;

  if v_left > 0 then
    select array_agg(q.name) into v_free from queues q
    where (v_names is null or q.name = any(v_names)) and not q.paused
      and q.concurrency_limit is null and q.rate_limit_per_s is null
      and q.tenant_concurrency_limit is null and q.tenant_rate_limit_per_s is null;
    if v_free is not null then
      return query select * from _claim(worker_id, v_free, v_left);
    end if;
  end if;
end $$;

-- =============================================================================================
-- Worker hot path (docs/DESIGN.md). Worker-side functions act only on rows that are
-- processing AND locked by that worker, so a stale worker cannot touch a rescued job.
--
-- complete_jobs, heartbeat_jobs and release_jobs take the ids of jobs the calling worker holds
-- and re-check the status as `j.status = (select 'processing')`: the sub-select is evaluated
-- once and, not being a constant, cannot prove the partial indexes' predicate, so the rows are
-- found through the primary key (an `= any(ids)` probe, or one probe per id in the join with the
-- per-job arrays). Written as a plain `status = 'processing'`, it matches the partial index
-- job_queue_processing_idx, and after an ANALYZE that saw few or no jobs in flight the planner
-- reads that whole index (every job in flight on every worker of every queue) to find the
-- batch's rows. Measured with 8,200 jobs in flight: complete_jobs of 200 ids 11.7 ms that way
-- against 2.5 ms by primary key; heartbeat_jobs of 200 ids 5.4 ms. Same rows, same results.

-- Marks jobs completed in one statement. processing_ms null (or a shorter array) = measured
-- from started_at. results[i] is what job ids[i]'s handler returned (null = nothing); a result
-- over 64 KiB is not stored, the job still completes and its result says why, so a cache hit can
-- tell "too large" from "no result". Returns how many jobs this worker still held and completed.
create or replace function complete_jobs(worker_id text, ids uuid[], processing_ms int[] default null,
                                         results jsonb[] default null)
returns int
language sql volatile set jit = off as $$
  with done as (
    update job_queue j
    set status = 'completed', completed_at = now(), locked_by = null, heartbeat_at = null,
        handler_backend_pid = null,
        processing_time_ms = greatest(0, coalesce(t.ms,
                               (extract(epoch from now() - j.started_at) * 1000)::int)),
        result = case when octet_length(t.res::text) > 65536
                      then jsonb_build_object('result_not_stored', 'larger than 64 KiB',
                                              'bytes', octet_length(t.res::text))
                      else t.res end
    from unnest($2, $3, $4) as t(id, ms, res)
    where j.id = t.id and j.status = (select 'processing') and j.locked_by = $1
    returning 1
  )
  select count(*)::int from done
$$;

-- =============================================================================================
-- Failure

-- Backoff. For the n-th failed attempt (n = attempt_count after the failure, n >= 1):
--   delay(n) = schedule[min(n, len(schedule))]          when the queue has backoff_schedule_s
--            = min(cap, base * 2^(n-1))                 otherwise (backoff_base_s, backoff_cap_s)
--   wait     = max(delay(n) * f, retry_after_s)         f uniform in [1, 1.25) (jitter)
-- Bounds: delay(n) <= wait < 1.25 * delay(n), unless retry_after_s is larger (then wait equals it).
-- The jitter spreads retries of jobs that failed together (an outage) instead of waking them at
-- one instant. next_retry_at = run_at = failure time + wait.
create or replace function backoff_delay_s(base_s int, cap_s int, schedule_s int[], attempt int)
returns double precision
language sql immutable parallel safe as $$
  select case
    when schedule_s is not null and cardinality(schedule_s) > 0
      then schedule_s[least(greatest(attempt, 1), cardinality(schedule_s))]::double precision
    else least(cap_s::double precision,
               base_s * power(2::double precision, least(greatest(attempt, 1) - 1, 60)))
  end
$$;

-- Credentials in URLs never reach a table a viewer reads: a handler's error message or details
-- may quote the URL it called ("url": "https://user:secret@api.example.com/v1"), so every
-- `scheme://userinfo@` loses its userinfo before a failure is stored (in any string of the
-- details, not only the url/endpoint fields). Works on the JSON text: the characters removed
-- contain no quote or backslash, so the text stays valid JSON.
create or replace function _redact_userinfo(t text) returns text
language sql immutable parallel safe as $$
  select case when t ~ '://[^/?#@[:space:]"\\]*@'
              then regexp_replace(t, '(://)[^/?#@[:space:]"\\]*@', '\1', 'g')
              else t end
$$;

-- The one place failure is decided, shared by fail_job (mode 'any': a pending or processing
-- job), fail_jobs (mode 'worker': processing and locked by that worker) and rescue_stale_jobs
-- (mode 'rescue': processing, whoever holds it). Counts the attempt, records it in job_attempts,
-- and moves the job to pending with backoff or to dead_letter. Returns the rows it moved.
-- Each failure's fingerprint (15_triage.sql) is computed here, once, and stored on the job and
-- the attempt; its group is recorded (and a resolved one marked regressed) per statement.
-- Message and details are stored with URL credentials removed (_redact_userinfo).
create or replace function _fail_jobs(mode text, worker text, ids uuid[], messages text[], error_types text[],
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
           _redact_userinfo(left(coalesce(i.msg, ''), 10000)) as msg, coalesce(nullif(i.etype, ''), 'unknown') as etype,
           _redact_userinfo(i.det::text)::jsonb as det, coalesce(i.retry, true) as retry, greatest(i.after, 0) as after,
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
    select t.*, t.retry and t.attempt < t.max_attempts as again, error_fingerprint(t.etype, t.msg) as fp,
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
      handler_backend_pid = null,
      error_message = d.msg,
      error_type    = d.etype,
      error_details = d.det,
      error_fingerprint = d.fp,
      last_error_at = now()
    from decided d
    where j.id = d.id
    returning j.id, j.queue, j.status, d.attempt, d.etype, d.msg, d.det, d.fp, coalesce(d.old_worker, worker) as worker
  ), logged as (
    insert into job_attempts (job_id, attempt, error_type, error_message, error_details, error_fingerprint, worker, failed_at)
    select m.id, m.attempt, m.etype, m.msg, m.det, m.fp, m.worker, now() from moved m
  ), grouped as (
    select _record_error_groups(array_agg(m.queue), array_agg(m.fp), array_agg(m.etype), array_agg(m.msg)) as done
    from moved m
  )
  select m.id, m.status from moved m cross join grouped
$$;

-- Seed API: fails one pending or processing job. Returns the job's new status ('pending' when it
-- will be retried after backoff, 'dead_letter' otherwise). Unknown id or another status: error.
create or replace function fail_job(job_id uuid, error_message text, error_type text, error_details jsonb,
                                    is_retryable boolean default true)
returns text
language plpgsql volatile set jit = off as $$
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
create or replace function fail_jobs(worker_id text, ids uuid[], messages text[], error_types text[],
                                     details jsonb[] default null, retryable boolean[] default null,
                                     retry_after_s int[] default null)
returns int
language plpgsql volatile set jit = off as $$
declare n int := coalesce(cardinality(ids), 0);
begin
  if n = 0 then return 0; end if;
  perform _check_batch_size(n, 'number of jobs');
  if coalesce(cardinality(messages), n) <> n or coalesce(cardinality(error_types), n) <> n
     or coalesce(cardinality(details), n) <> n or coalesce(cardinality(retryable), n) <> n
     or coalesce(cardinality(retry_after_s), n) <> n then
    raise exception 'fail_jobs: every array must have one element per id (% ids)', n using errcode = '22023';
  end if;
  -- A handler stopped because an operator cancelled its job reports a failure; the job ends
  -- cancelled (operator) with that report, and _fail_jobs passes over it (no longer processing).
  n := _finish_cancelled_jobs(worker_id, ids, messages, details);
  return n + (select count(*)::int
              from _fail_jobs('worker', worker_id, ids, messages, error_types, details, retryable, retry_after_s));
end $$;

-- Gives unfinished jobs back (graceful shutdown): pending again at once, no attempt counted.
create or replace function release_jobs(worker_id text, ids uuid[]) returns int
language plpgsql volatile set jit = off as $$
#variable_conflict use_column
declare v_queues text[]; n int;
begin
  -- A job an operator asked to stop is not handed to another worker: it ends cancelled.
  n := _finish_cancelled_jobs(release_jobs.worker_id, release_jobs.ids,
                              array_fill('the worker stopped before the handler finished'::text,
                                         array[coalesce(cardinality(release_jobs.ids), 0)]));
  with rel as (
    update job_queue j set status = 'pending', locked_by = null, heartbeat_at = null, handler_backend_pid = null
    where j.id = any(release_jobs.ids) and j.status = (select 'processing')
      and j.locked_by = release_jobs.worker_id
    returning j.queue
  )
  select n + count(*), array_agg(distinct rel.queue) into n, v_queues from rel;
  perform pg_notify('queuetop_jobs', x.q) from unnest(v_queues) x(q);
  return n;
end $$;

-- Proves the worker is alive. Touches no indexed column, so it is a HOT update. Returns how many
-- of the jobs the worker still holds (fewer means some were rescued and must be abandoned).
create or replace function heartbeat_jobs(worker_id text, ids uuid[]) returns int
language sql volatile set jit = off as $$
  with hb as (
    update job_queue j set heartbeat_at = now()
    where j.id = any($2) and j.status = (select 'processing') and j.locked_by = $1
    returning 1
  )
  select count(*)::int from hb
$$;

-- Recovers the jobs of workers that stopped. Every live worker calls it every 10 s
-- (PoolLoops.swift), on any number of hosts at once: each worker row and each job row is taken
-- FOR UPDATE SKIP LOCKED, so one caller handles a given worker or job and the others pass over
-- it; nobody waits. One transaction. Returns how many jobs it moved.
--
-- 1. Dead workers, fast. A worker not stopped whose registry row has been silent for
--    worker_silence_limit() (worker_registry shows it 'lost') is presumed dead. Each job it holds
--    whose own lease (heartbeat_at, else the claim) is ALSO older than that limit is handed back:
--    pending at once, no attempt counted, no backoff, as release_jobs does at shutdown. The
--    lease condition is what keeps the jobs of a worker that is alive but late: it renews the
--    lease of every job it holds at least every 10 s (PoolLoops.renewLeases), so a late registry
--    row alone never takes a job from it. When it holds no job any more its row becomes 'dead'
--    (in_flight 0); until then it stays 'lost' and the next sweep looks again. Only the first
--    such release of a job is free (dead_worker_releases, 0015): a job whose worker dies again
--    is failed as 'worker_lost', counting an attempt, so a job that kills its workers still
--    reaches the DLQ. Each sweep that moved a worker's jobs or declared it dead writes one
--    audit row, 'worker.dead', naming the worker and the jobs.
-- 2. The backstop: a processing job with no heartbeat (or start) for longer than its queue's
--    visibility_timeout_s, whoever holds it (a worker that never registered, one whose row was
--    pruned): counted as a failed attempt of type 'worker_lost' (so a job that kills its worker
--    ends in the DLQ instead of looping), retried with backoff or dead-lettered.
-- In both, a job an operator asked to stop (cancel_requested_at, cancel_job) is never handed back
-- or retried: it ends 'cancelled' (operator), as its worker would have ended it.
create or replace function rescue_stale_jobs(max_jobs int default 1000) returns int
language plpgsql volatile set jit = off as $$
declare
  v_limit constant interval := worker_silence_limit();
  w record;
  v_free uuid[]; v_charged uuid[]; v_cancelled uuid[]; v_cancel_msgs text[]; v_queues text[]; v_ids uuid[]; v_msgs text[];
  v_dead boolean;
  n int := 0;
begin
  perform _check_batch_size(max_jobs, 'max_jobs');
  for w in
    select r.id, r.host, r.pid, r.last_seen from workers r
    where r.status not in ('stopped', 'dead') and r.last_seen < now() - v_limit
    order by r.last_seen
    for update skip locked
  loop
    exit when n >= max_jobs;
    select coalesce(array_agg(j.id) filter (where j.cancel_requested_at is null and j.dead_worker_releases = 0), '{}'),
           coalesce(array_agg(j.id) filter (where j.cancel_requested_at is null and j.dead_worker_releases > 0), '{}'),
           coalesce(array_agg(j.id) filter (where j.cancel_requested_at is not null), '{}')
      into v_free, v_charged, v_cancelled
    from (select j.id, j.dead_worker_releases, j.cancel_requested_at from job_queue j
          where j.status = 'processing' and j.locked_by = w.id
            and coalesce(j.heartbeat_at, j.started_at) < now() - v_limit
          order by j.started_at
          limit max_jobs - n
          for update of j skip locked) j;
    with rel as (
      update job_queue j set status = 'pending', locked_by = null, heartbeat_at = null,
                             dead_worker_releases = j.dead_worker_releases + 1
      where j.id = any(v_free)
      returning j.queue
    )
    select array_agg(distinct rel.queue) into v_queues from rel;
    perform pg_notify('queuetop_jobs', x.q) from unnest(v_queues) x(q);
    if cardinality(v_charged) > 0 then
      perform from _fail_jobs('rescue', null, v_charged,
                              array_fill(format('worker %s died (silent since %s) holding this job, and an earlier worker of it died too',
                                                w.id, w.last_seen), array[cardinality(v_charged)]),
                              array_fill('worker_lost'::text, array[cardinality(v_charged)]), null, null, null);
    end if;
    -- Jobs an operator asked to stop are not rerun: they end cancelled (operator).
    if cardinality(v_cancelled) > 0 then
      perform _finish_cancelled_jobs(null, v_cancelled,
                                     array_fill(format('worker %s died (silent since %s) before it stopped the handler',
                                                       w.id, w.last_seen), array[cardinality(v_cancelled)]));
    end if;
    n := n + cardinality(v_free) + cardinality(v_charged) + cardinality(v_cancelled);
    -- Dead once it holds nothing: jobs whose leases are still fresh wait for the next sweep.
    v_dead := not exists (select 1 from job_queue j where j.status = 'processing' and j.locked_by = w.id);
    if v_dead then
      update workers set status = 'dead', in_flight = 0, buffered = 0 where id = w.id;
    end if;
    if v_dead or cardinality(v_free) + cardinality(v_charged) + cardinality(v_cancelled) > 0 then
      perform record_audit('worker.dead', jsonb_build_object(
        'worker_id', w.id, 'host', w.host, 'pid', w.pid, 'last_seen', w.last_seen, 'declared_dead', v_dead,
        'released', to_jsonb(v_free), 'charged', to_jsonb(v_charged), 'cancelled', to_jsonb(v_cancelled)),
        cardinality(v_free) + cardinality(v_charged) + cardinality(v_cancelled));
    end if;
  end loop;

  if n >= max_jobs then return n; end if;
  select array_agg(s.id) filter (where not s.cancelling), array_agg(s.msg) filter (where not s.cancelling),
         coalesce(array_agg(s.id) filter (where s.cancelling), '{}'), array_agg(s.msg) filter (where s.cancelling)
    into v_ids, v_msgs, v_cancelled, v_cancel_msgs
  from (
    select j.id, format('worker %s went silent: no heartbeat since %s (visibility timeout %s s)',
                        coalesce(j.locked_by, '?'), coalesce(j.heartbeat_at, j.started_at),
                        q.visibility_timeout_s) as msg,
           j.cancel_requested_at is not null as cancelling
    from job_queue j join queues q on q.name = j.queue
    where j.status = 'processing'
      and coalesce(j.heartbeat_at, j.started_at) < now() - q.visibility_timeout_s * interval '1 second'
    order by j.started_at
    limit max_jobs - n
    for update of j skip locked
  ) s;
  -- A job an operator asked to stop is not retried: it ends cancelled (operator).
  if cardinality(v_cancelled) > 0 then
    n := n + _finish_cancelled_jobs(null, v_cancelled, v_cancel_msgs);
  end if;
  if v_ids is null then return n; end if;
  return n + (select count(*)::int
              from _fail_jobs('rescue', null, v_ids, v_msgs, array_fill('worker_lost'::text, array[cardinality(v_ids)]),
                              null, null, null));
end $$;

-- =============================================================================================
-- Expiry and cancel

-- Cancels up to max_jobs pending jobs whose expires_at has passed (cancel_reason 'expired'),
-- oldest expiry first, and writes one audit row per queue ('job.expire', the first 20 ids, the
-- count). Workers call it every second or so; claims already skip expired jobs, so the delay
-- only affects when the cancellation becomes visible. Returns how many were cancelled.
create or replace function expire_jobs(max_jobs int default 1000) returns int
language plpgsql volatile set jit = off as $$
declare
  n int := 0;
  r record;
begin
  perform _check_batch_size(max_jobs, 'max_jobs');
  for r in
    with gone as (
      update job_queue j
      set status = 'cancelled', cancel_reason = 'expired', completed_at = now(), next_retry_at = null
      where j.id = any(array(
        select e.id from job_queue e
        where e.status = 'pending' and e.expires_at <= now()
        order by e.expires_at
        limit max_jobs
        for update skip locked))
      returning j.queue, j.id
    )
    select g.queue, count(*)::int as n, (array_agg(g.id order by g.id))[1:20] as ids
    from gone g group by g.queue order by g.queue
  loop
    perform record_audit('job.expire', jsonb_build_object('queue', r.queue, 'ids', to_jsonb(r.ids)), r.n);
    n := n + r.n;
  end loop;
  return n;
end $$;

-- Operator: cancels one job. A pending job is cancelled at once. A running (processing) job is
-- marked cancel-requested and its worker told (NOTIFY queuetop_cancel, payload the job id; a
-- worker that cannot LISTEN asks worker_cancel_requests every second): the worker stops the
-- handler and ends the job 'cancelled' (operator) through fail_jobs or release_jobs, and if the
-- worker is gone, rescue_stale_jobs ends it so instead of running it again. cancel_reason
-- 'operator' tells either apart from expiry. One audit row ('job.cancel'; for a running job it
-- names the worker and says running). Unknown job: P0002; any other status, or a cancel already
-- requested: 55000, and nothing changes. Returns true (the seed's signature).
create or replace function cancel_job(job_id uuid) returns boolean
language plpgsql volatile as $$
declare v_status text; v_worker text; v_requested timestamptz;
begin
  if job_id is null then
    raise exception 'a job id is required' using errcode = '22023';
  end if;
  select j.status, j.locked_by, j.cancel_requested_at into v_status, v_worker, v_requested
  from job_queue j where j.id = cancel_job.job_id for update;
  if not found then
    raise exception 'unknown job %', job_id using errcode = 'P0002';
  end if;
  if v_status = 'pending' then
    update job_queue j set status = 'cancelled', cancel_reason = 'operator', completed_at = now()
    where j.id = cancel_job.job_id;
    perform record_audit('job.cancel', jsonb_build_object('ids', jsonb_build_array(job_id)), 1);
    return true;
  end if;
  if v_status <> 'processing' then
    raise exception 'job % is %; only a pending or running job can be cancelled', job_id, v_status
      using errcode = '55000';
  end if;
  if v_requested is not null then
    raise exception 'job % is already being cancelled (asked at %); its worker stops it', job_id, v_requested
      using errcode = '55000';
  end if;
  update job_queue j set cancel_requested_at = now() where j.id = cancel_job.job_id;
  perform pg_notify('queuetop_cancel', job_id::text);
  perform record_audit('job.cancel', jsonb_build_object('ids', jsonb_build_array(job_id), 'running', true,
                                                        'worker_id', v_worker), 1);
  return true;
end $$;

-- Operator: cancel_job, saying what happened: 'cancelled' (it was pending) or 'cancelling' (it
-- was running; its worker is stopping it). The CLI and the dashboard call this one.
create or replace function cancel_running_job(job_id uuid) returns text
language plpgsql volatile as $$
declare v_status text;
begin
  select j.status into v_status from job_queue j where j.id = cancel_running_job.job_id for update;
  perform cancel_job(job_id);
  return case when v_status = 'processing' then 'cancelling' else 'cancelled' end;
end $$;

-- Ends running jobs an operator asked to stop as 'cancelled' (operator): the handler was stopped
-- on purpose, so no attempt is counted and nothing is retried or handed to another worker.
-- worker NULL = whoever holds them (rescue of a dead worker). messages and details (parallel to
-- ids; shorter or NULL = none) are what the stopped handler reported, its partial output: they
-- are kept in error_message (after "cancelled by an operator while running: ") and
-- error_details, credentials removed from URLs as for failures. Returns how many jobs it ended.
create or replace function _finish_cancelled_jobs(worker text, ids uuid[], messages text[] default null,
                                                  details jsonb[] default null)
returns int
language sql volatile as $$
  with done as (
    update job_queue j set
      status = 'cancelled', cancel_reason = 'operator', completed_at = now(), next_retry_at = null,
      locked_by = null, heartbeat_at = null, handler_backend_pid = null,
      processing_time_ms = greatest(0, (extract(epoch from now() - coalesce(j.started_at, now())) * 1000)::int),
      error_type = 'cancelled',
      error_message = left('cancelled by an operator while running'
                           || coalesce(': ' || _redact_userinfo(nullif(t.msg, '')), ''), 10000),
      error_details = _redact_userinfo(t.det::text)::jsonb,
      last_error_at = now()
    from unnest(ids, messages, details) as t(id, msg, det)
    -- `(select 'processing')`: found by primary key, never by reading the processing index
    -- (the note above complete_jobs); release_jobs and fail_jobs call this on every batch.
    where t.id is not null and j.id = t.id and j.status = (select 'processing') and j.cancel_requested_at is not null
      and (worker is null or j.locked_by = worker)
    returning 1
  )
  select count(*)::int from done
$$;

-- =============================================================================================
-- Short ids: the random tail of an id, for `:job 9bc7bfa9` and `--where id:9bc7bfa9`

-- The last 12 hex digits of an id (the random tail of a UUIDv7; its first 12 are a millisecond
-- clock), in reverse order, as a 48-bit integer: the key of job_queue_ids (0028). Reversed so
-- that the ids ending in any suffix of up to 12 digits are one range of keys
-- (job_ids_ending). Pure (no table, no other function): inlined into the triggers.
create or replace function _id_tail_key(id uuid) returns bigint
language sql immutable strict parallel safe as $$
  select ('x' || reverse(right(id::text, 12)))::bit(48)::bigint
$$;

-- Each new job's tail, written once (0028: claims, completions and retries never touch
-- job_queue_ids, unlike an index on job_queue that every non-HOT update writes to). A trigger,
-- not the enqueue functions: an application may INSERT into job_queue directly. Runs as
-- whoever inserts (queuetop's owner, through enqueue_jobs, or the application as that owner); no
-- role may write job_queue_ids itself (90_privileges.sql).
create or replace function job_queue_ids_added() returns trigger
language plpgsql as $$
begin
  insert into job_queue_ids (tail, id) select _id_tail_key(n.id), n.id from new_rows n;
  return null;
end $$;

-- Deleted jobs (retention, `jobs delete`, an application's DELETE) take their tails with them,
-- through the primary key of job_queue_ids: one index probe per deleted job. Hash and merge
-- joins are off while it runs: PL/pgSQL caches the plan without knowing how many rows a DELETE
-- will hand it, and either would read the whole of job_queue_ids for one retention batch.
create or replace function job_queue_ids_removed() returns trigger
language plpgsql
set enable_hashjoin = off
set enable_mergejoin = off
as $$
begin
  delete from job_queue_ids s using old_rows o where s.tail = _id_tail_key(o.id) and s.id = o.id;
  return null;
end $$;

-- An UPDATE that names id (queuetop never does; an application could) re-syncs job_queue_ids
-- with job_queue: tails of ids that are gone go, tails of ids that are new come. A statement
-- trigger on `update of id`: whether an UPDATE names id is checked once per statement, so a
-- claim or a completion adds no per-row trigger work (a row trigger is checked for every
-- updated row; measured, it made no difference beyond this machine's noise, but nothing on the
-- hot path needs it). Both statements read the whole of both tables, which only such an UPDATE
-- pays.
create or replace function job_queue_ids_moved() returns trigger
language plpgsql as $$
begin
  delete from job_queue_ids s where not exists (select 1 from job_queue j where j.id = s.id);
  insert into job_queue_ids (tail, id)
  select _id_tail_key(j.id), j.id from job_queue j
  where not exists (select 1 from job_queue_ids s where s.tail = _id_tail_key(j.id) and s.id = j.id)
  on conflict do nothing;
  return null;
end $$;

-- TRUNCATE holds ACCESS EXCLUSIVE on job_queue, so no insert can race this.
create or replace function job_queue_ids_truncated() returns trigger
language plpgsql as $$
begin
  truncate job_queue_ids;
  delete from job_queue_ids_backfill;
  return null;
end $$;

create or replace trigger job_queue_ids_insert after insert on job_queue
  referencing new table as new_rows for each statement execute function job_queue_ids_added();
create or replace trigger job_queue_ids_delete after delete on job_queue
  referencing old table as old_rows for each statement execute function job_queue_ids_removed();
create or replace trigger job_queue_ids_update after update of id on job_queue
  for each statement execute function job_queue_ids_moved();
create or replace trigger job_queue_ids_truncate after truncate on job_queue
  for each statement execute function job_queue_ids_truncated();

-- The ids of the jobs whose id ends with `hex` (1 to 32 hex digits, lower or upper case, no
-- dashes), in no order, possibly with ids of jobs deleted meanwhile (callers join job_queue).
-- A range of job_queue_ids' primary key for the last 12 digits, then the whole suffix checked.
-- While `queuetop migrate` is still copying the tails of the jobs older than 0028
-- (job_queue_ids_backfill has its row), 0020's index on job_queue answers instead: every job
-- is in it until the copy is done and drops it. Reads with the caller's privileges. Bad text: 22023.
create or replace function job_ids_ending(hex text) returns uuid[]
language plpgsql stable as $$
declare
  v_hex text := lower(hex);
  v_tail text;
begin
  if v_hex is null or v_hex !~ '^[0-9a-f]{1,32}$' then
    raise exception 'not the end of a job id: "%" (give 1 to 32 hex digits)', left(hex, 80)
      using errcode = '22023';
  end if;
  v_tail := reverse(right(v_hex, 12));
  if exists (select 1 from job_queue_ids_backfill) then
    return array(
      select j.id from job_queue j
      where reverse(right(j.id::text, 12)) collate "C" >= v_tail collate "C"
        and reverse(right(j.id::text, 12)) collate "C" < (v_tail || 'g') collate "C"
        and right(replace(j.id::text, '-', ''), length(v_hex)) = v_hex);
  end if;
  return array(
    select s.id from job_queue_ids s
    where s.tail between ('x' || rpad(v_tail, 12, '0'))::bit(48)::bigint
                     and ('x' || rpad(v_tail, 12, 'f'))::bit(48)::bigint
      and right(replace(s.id::text, '-', ''), length(v_hex)) = v_hex);
end $$;

-- The jobs whose id matches a part a person typed: any prefix or any suffix of the id, with or
-- without dashes, at least 4 hex digits (fewer would match most of a busy day). Screens show the
-- random tail of the id (its first 12 hex digits are the creation millisecond), so a suffix is the
-- usual case: job_ids_ending (job_queue_ids, 0028) answers it, the primary key a prefix.
-- Returns at most max_rows ids (the caller asks for one more than it shows, to say "ambiguous").
-- Reads job_queue with the caller's privileges. Bad text: 22023.
create or replace function find_job_ids(part text, max_rows int default 10)
returns setof uuid
language plpgsql stable as $$
declare
  v_hex text := lower(replace(btrim(coalesce(part, ''), E' \t\n\r"''`'), '-', ''));
  v_low uuid; v_high uuid;
begin
  perform _check_batch_size(max_rows, 'max_rows');
  if v_hex !~ '^[0-9a-f]{4,32}$' then
    raise exception 'not a job id or part of one: "%" (give 4 to 32 hex digits, dashes allowed)', left(part, 80)
      using errcode = '22023';
  end if;
  if length(v_hex) = 32 then
    return query select j.id from job_queue j where j.id = v_hex::uuid;
    return;
  end if;
  v_low := rpad(v_hex, 32, '0')::uuid;
  v_high := rpad(v_hex, 32, 'f')::uuid;
  return query
    select m.id from (
      select j.id from job_queue j where j.id between v_low and v_high
      union
      select j.id from job_queue j where j.id = any(job_ids_ending(v_hex))
    ) m
    order by m.id
    limit max_rows;
end $$;

-- =============================================================================================
-- Queue settings

-- Operator: changes a queue's settings. The new values are merged into the row with
-- jsonb_populate_record, which converts and range-checks through the column types and the
-- table's CHECK constraints, so each setting is written once here instead of one CASE each.
create or replace function update_queue_settings(queue_name text, settings jsonb) returns queues
language plpgsql volatile as $$
declare
  v_bad text;
  r queues;
  s jsonb := coalesce(settings, '{}');
begin
  r := _require_queue(queue_name);
  if jsonb_typeof(s) <> 'object' then
    raise exception 'settings must be a JSON object' using errcode = '22023';
  end if;
  select string_agg(k, ', ') into v_bad from jsonb_object_keys(s) k
  where k not in ('paused', 'concurrency_limit', 'max_attempts', 'backoff_base_s', 'backoff_cap_s',
                  'backoff_schedule_s', 'visibility_timeout_s', 'rate_limit_per_s', 'retention_s',
                  'dlq_alert_threshold', 'oldest_pending_alert_s', 'error_rate_alert',
                  'tenant_concurrency_limit', 'tenant_rate_limit_per_s');
  if v_bad is not null then
    raise exception 'unknown queue setting(s): %', v_bad using errcode = '22023',
      hint = 'Settings: paused, concurrency_limit, max_attempts, backoff_base_s, backoff_cap_s, '
             'backoff_schedule_s, visibility_timeout_s, rate_limit_per_s, retention_s, '
             'dlq_alert_threshold, oldest_pending_alert_s, error_rate_alert, '
             'tenant_concurrency_limit, tenant_rate_limit_per_s.';
  end if;
  -- paused is not nullable: JSON null means "not paused", as in 0001.
  if s ? 'paused' and jsonb_typeof(s -> 'paused') = 'null' then
    s := jsonb_set(s, '{paused}', 'false');
  end if;
  r := jsonb_populate_record(r, s);
  update queues q set
    paused = r.paused, concurrency_limit = r.concurrency_limit, max_attempts = r.max_attempts,
    backoff_base_s = r.backoff_base_s, backoff_cap_s = r.backoff_cap_s,
    backoff_schedule_s = r.backoff_schedule_s, visibility_timeout_s = r.visibility_timeout_s,
    rate_limit_per_s = r.rate_limit_per_s, retention_s = r.retention_s,
    dlq_alert_threshold = r.dlq_alert_threshold, oldest_pending_alert_s = r.oldest_pending_alert_s,
    error_rate_alert = r.error_rate_alert, tenant_concurrency_limit = r.tenant_concurrency_limit,
    tenant_rate_limit_per_s = r.tenant_rate_limit_per_s, updated_at = now()
  where q.name = queue_name
  returning * into r;
  if s ? 'rate_limit_per_s' then delete from queue_rate_buckets b where b.queue = queue_name; end if;
  if s ? 'tenant_rate_limit_per_s' then delete from tenant_rate_buckets b where b.queue = queue_name; end if;
  perform record_audit('queue.settings', jsonb_build_object('queue', queue_name, 'settings', settings), 1);
  -- Resuming or raising a limit can make jobs claimable.
  perform pg_notify('queuetop_jobs', queue_name);
  return r;
end $$;

-- Pause and resume differ only in the flag and the audit action; one body serves both.
create or replace function _set_queue_paused(queue_name text, pause boolean) returns queues
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

-- Who paused a queue and when (0032), whichever path paused it: pause_queue, a settings change
-- with "paused": true, an owner's UPDATE. Set when paused turns on, kept while it stays on (a
-- second pause does not rename who stopped the queue, and nobody writes the two columns
-- directly), cleared on resume. session_user is the login role, as in audit_log.actor.
create or replace function queues_paused_by() returns trigger
language plpgsql as $$
begin
  if not new.paused then
    new.paused_by := null; new.paused_at := null;
  elsif tg_op = 'INSERT' or not old.paused then
    new.paused_by := session_user; new.paused_at := now();
  else
    new.paused_by := old.paused_by; new.paused_at := old.paused_at;
  end if;
  return new;
end $$;

create or replace trigger queues_paused_by before insert or update on queues
  for each row execute function queues_paused_by();

create or replace function pause_queue(queue_name text) returns queues
language sql volatile as $$ select _set_queue_paused(queue_name, true) $$;

create or replace function resume_queue(queue_name text) returns queues
language sql volatile as $$ select _set_queue_paused(queue_name, false) $$;

-- concurrency_limit null = unlimited.
create or replace function set_queue_concurrency(queue_name text, concurrency_limit int) returns queues
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

-- Operator: process a queue now. Retries waiting out their backoff become due at once (jobs
-- scheduled for later with run_at and no failed attempt are left alone), an open circuit breaker
-- goes half-open so the next claim probes, and listening workers wake up. Returns the number of
-- pending jobs now due.
create or replace function run_queue_now(queue_name text)
returns int language plpgsql volatile as $$
declare
  n int;
begin
  if not exists (select 1 from queues where name = queue_name) then
    raise exception 'unknown queue %', queue_name using errcode = 'P0002',
      hint = 'queuetop queue list shows the queues';
  end if;
  update job_queue set run_at = now()
  where queue = queue_name and status = 'pending' and attempt_count > 0 and run_at > now();
  update circuit_breakers set state = 'half_open', reopen_at = now(), updated_at = now()
  where queue = queue_name and state = 'open';
  select count(*) into n from job_queue
  where queue = queue_name and status = 'pending' and run_at <= now();
  perform record_audit('run_queue_now', jsonb_build_object('queue', queue_name), n);
  perform pg_notify('queuetop_jobs', queue_name);
  return n;
end $$;

-- =============================================================================================
-- Reads for the dashboard and `queuetop queue show`.

-- The top tenants of a queue by pending backlog, with what they have in flight and how long the
-- oldest due job has waited.
create or replace function queue_tenants(queue_name text, max_tenants int default 10)
returns table (tenant text, pending bigint, processing bigint, oldest_pending_s double precision)
language plpgsql stable as $$
begin
  perform _require_queue(queue_name);
  if max_tenants is null or max_tenants not between 1 and 1000 then
    raise exception 'max_tenants must be between 1 and 1000, got %', coalesce(max_tenants::text, 'null')
      using errcode = '22023';
  end if;
  return query
    select j.tenant,
           count(*) filter (where j.status = 'pending'),
           count(*) filter (where j.status = 'processing'),
           extract(epoch from now() - min(j.run_at) filter (where j.status = 'pending' and j.run_at <= now()))::double precision
    from job_queue j
    where j.queue = queue_name and j.tenant is not null and j.status in ('pending', 'processing')
    group by j.tenant
    order by 2 desc, 1
    limit max_tenants;
end $$;

-- Jobs cancelled because they expired, per queue, in the last hour and the last 24 hours.
create or replace function queue_expired_counts(queue_names text[] default null)
returns table (queue text, last_hour bigint, last_24h bigint)
language sql stable as $$
  select j.queue,
         count(*) filter (where j.completed_at >= now() - interval '1 hour'),
         count(*)
  from job_queue j
  where j.cancel_reason = 'expired' and j.completed_at >= now() - interval '24 hours'
    and (queue_names is null or j.queue = any(queue_names))
  group by j.queue
  order by j.queue
$$;

-- =============================================================================================
-- Retention

-- Deletes up to batch_size completed or cancelled jobs older than their queue's retention_s. It
-- walks the primary key from the oldest id (ids are time-ordered and a job completes after it is
-- created), so completion needs no extra index. Call until it returns 0. The workers' own
-- retention uses prune_jobs_batch, which keeps a cursor.
create or replace function prune_completed_jobs(batch_size int default 1000) returns int
language plpgsql volatile set jit = off as $$
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

-- One retention batch over job_queue: examines at most batch_size jobs in id order after
-- after_id (null = from the oldest) and deletes those completed or cancelled longer ago than
-- their queue's retention_s; their job_attempts rows go with them (on delete cascade).
-- Returns how many it deleted and the id to pass next time; next_after null = the walk is over.
--
-- Why a cursor: prune_completed_jobs restarts at the oldest id on every call, so old rows
-- it must keep (a long-retention queue, a DLQ backlog, pending jobs) are re-read by every batch.
-- Walking forward examines each row once per run: a run costs O(rows below the bound).
-- Only ids below the shortest retention's bound are walked (ids are time-ordered UUIDv7 and a
-- job finishes after it is created, so nothing above can be due). Rows locked by someone else
-- are skipped and picked up by the next run.
create or replace function prune_jobs_batch(after_id uuid, batch_size int)
returns table (pruned int, next_after uuid)
language plpgsql volatile as $$
declare v_bound uuid; v_ids uuid[]; v_examined int; n int;
begin
  perform _check_batch_size(batch_size, 'batch_size');
  select _uuid_v7_floor(now() - min(q.retention_s) * interval '1 second') into v_bound from queues q;
  v_ids := array(
    select j.id from job_queue j
    where j.id > coalesce(after_id, '00000000-0000-0000-0000-000000000000'::uuid) and j.id < v_bound
    order by j.id
    limit batch_size);
  v_examined := cardinality(v_ids);
  if v_examined = 0 then
    return query select 0, null::uuid;
    return;
  end if;
  with victims as (
    select j.id from job_queue j join queues q on q.name = j.queue
    where j.id = any(v_ids) and j.status in ('completed', 'cancelled')
      and coalesce(j.completed_at, j.created_at) < now() - q.retention_s * interval '1 second'
    for update of j skip locked
  )
  delete from job_queue j using victims v where j.id = v.id;
  get diagnostics n = row_count;
  return query select n, case when v_examined < batch_size then null::uuid else v_ids[v_examined] end;
end $$;

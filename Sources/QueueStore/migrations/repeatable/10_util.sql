-- Small shared helpers: time-ordered ids and the checks every batch and operator function uses.
--
-- Error codes the Swift store maps (QueueStoreError):
--   P0002 unknown queue or job · 55000 job not in the status the action needs, or its dedup key
--   is held by an active job · 22023 invalid argument · 54000 payload too large
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- Time-ordered ids. Random v4 UUIDs scatter inserts over the whole primary-key index; a UUIDv7
-- (48-bit unix milliseconds, then random bits) keeps new rows at the right edge of the index, and
-- lets retention walk the primary key in creation order. Bits 52 and 53 turn version 4 into 7.
create or replace function uuid_v7() returns uuid
language sql volatile parallel safe as $$
  select encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
              from 1 for 6),
      52, 1), 53, 1), 'hex')::uuid
$$;

-- The smallest v7 id that can be generated at or after `t`: everything below it is older.
create or replace function _uuid_v7_floor(t timestamptz) returns uuid
language sql immutable parallel safe as $$
  select encode(
    substring(int8send(greatest(0, (extract(epoch from t) * 1000)::bigint)) from 3)
    || '\x70000000000000000000'::bytea, 'hex')::uuid
$$;

-- Batch functions refuse a batch size below 1 or above 100000; nothing has changed when it raises.
create or replace function _check_batch_size(n int, what text) returns void
language plpgsql stable as $$
begin
  if n is null or n < 1 or n > 100000 then
    raise exception '% must be between 1 and 100000, got %', what, coalesce(n::text, 'null')
      using errcode = '22023', hint = 'Batches of a few hundred to a few thousand rows keep locks short.';
  end if;
end $$;

-- Every operator function refuses an unknown queue (enqueueing into one creates it instead:
-- producers need no setup step).
create or replace function _require_queue(queue_name text) returns queues
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

-- Times that land in a table (a job's run_at and expires_at, a schedule's next run, a DLQ
-- filter's as_of, a circuit breaker's reopen_at) must lie between 1970-01-01 and 9999-12-31
-- UTC. ±infinity and year-200000 values parse as timestamptz, but a job due at 'infinity'
-- never runs, one due at '-infinity' sorts before every other forever, and a schedule row with
-- either made every tick of every schedule fail. NULL passes: each caller decides what NULL means.
create or replace function _sane_time(t timestamptz) returns boolean
language sql immutable parallel safe as $$
  select t is null
      or (t >= '1970-01-01 00:00:00+00'::timestamptz and t < '10000-01-01 00:00:00+00'::timestamptz)
$$;

-- Refuses a time outside that range, naming the argument (`what`).
create or replace function _check_time(t timestamptz, what text) returns void
language plpgsql immutable as $$
begin
  if not _sane_time(t) then
    raise exception '% must be between 1970-01-01 and 9999-12-31 (UTC), got %', what, t
      using errcode = '22023', hint = 'Give a real date and time; infinity is not accepted.';
  end if;
end $$;

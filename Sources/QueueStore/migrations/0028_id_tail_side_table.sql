-- 0028 — short ids without a cost on the hot path (issue 19 item 1, issue 18 item 6; figures in
-- scripts/bench.d/NOTES.md "Id tail" and docs/HEALTH.md "What it costs (measured)").
--
-- 0020's job_queue_id_tail_idx (the random tail of the id, reversed, as text) made `:job 9bc7bfa9`
-- a range scan, but claim and complete are non-HOT updates (status is in index predicates), so
-- each one inserted a new entry into it too, on a random leaf page of a large index: ~35 % more
-- server CPU per claimed and completed job. The tail never changes, so it is written once now,
-- at enqueue, into a side table that claims, completions and retries never touch:
--
--   job_queue_ids  (tail, id): tail = _id_tail_key(id), the last 12 hex digits of the id with
--                  their order reversed, as a 48-bit integer, so any suffix of up to 12 digits is
--                  one range of the primary key (tail, id). Filled by an AFTER INSERT statement
--                  trigger (applications may INSERT into job_queue directly), emptied of a job's
--                  row by the DELETE / TRUNCATE triggers (retention, `jobs delete`), moved by an
--                  UPDATE OF id trigger; all in repeatable/20_jobs.sql. A lookup joins job_queue's
--                  primary key, so a row whose job is gone would only be skipped.
--   job_queue_ids_backfill  one row while the jobs that existed before this migration are not
--                  all in job_queue_ids yet: `queuetop migrate` copies them after the install
--                  commits, in batches of short transactions (QueueStore/IdTailBackfill.swift,
--                  so no writer waits), then deletes the row and drops job_queue_id_tail_idx
--                  CONCURRENTLY. Until then job_ids_ending reads the old index, which every job
--                  still has an entry in.
create table job_queue_ids (
  tail bigint not null,
  id   uuid   not null,
  primary key (tail, id)
);

create table job_queue_ids_backfill (
  one_row  boolean primary key default true check (one_row),
  -- The largest id copied so far (the copy walks job_queue's primary key upwards); NULL: none yet.
  after_id uuid
);

do $$
begin
  if exists (select 1 from job_queue limit 1) then
    insert into job_queue_ids_backfill default values;
  else
    -- Nothing to copy (a fresh install): the old index goes now, while the table is empty.
    drop index if exists job_queue_id_tail_idx;
  end if;
end $$;

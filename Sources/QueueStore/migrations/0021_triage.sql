-- 0021 — triage: error fingerprints, a lifecycle for error groups, undo for requeues (issue 22,
-- items 1, 2 and 4; docs/TRIAGE.md). The functions live in repeatable/15_triage.sql and
-- 30_dlq.sql / 20_jobs.sql, which run after this file in the same transaction.
--
-- Nothing here rewrites or scans job_queue: the new columns have no default (a catalog change,
-- a brief ACCESS EXCLUSIVE lock), and the rows that exist are fingerprinted afterwards in short
-- batches by `queuetop migrate` (backfill_fingerprints, which keeps its place in
-- fingerprint_backfill), each batch its own transaction. Until a row is backfilled, readers compute its fingerprint on
-- the fly (coalesce(error_fingerprint, error_fingerprint(error_type, error_message))).

-- The fingerprint of the job's last failure and of each failed attempt: 12 hex characters of
-- md5(error type, normalised message). Set once, when the failure is recorded (_fail_jobs).
alter table job_queue add column error_fingerprint text;
alter table job_attempts add column error_fingerprint text;

-- Where the backfill of rows failed before 0021 stands: the last id of each table done, and
-- when it finished (then `queuetop migrate` skips it).
create table fingerprint_backfill (
  singleton      boolean primary key default true check (singleton),
  job_after      uuid,
  attempt_after  bigint,
  done_at        timestamptz
);
insert into fingerprint_backfill (singleton) values (true);

-- One row per (queue, fingerprint) ever seen failing: the normalised pattern to show, and the
-- group's lifecycle. state: open (default) | snoozed (until snoozed_until, or until the group's
-- DLQ count passes snooze_above) | resolved | regressed (was resolved, failed again).
create table error_groups (
  queue            text not null references queues (name) on update cascade on delete cascade,
  fingerprint      text not null check (fingerprint ~ '^[0-9a-f]{12}$'),
  error_type       text not null,
  pattern          text not null,
  first_seen       timestamptz not null default now(),
  state            text not null default 'open' check (state in ('open', 'snoozed', 'resolved', 'regressed')),
  snoozed_until    timestamptz,
  snooze_above     int check (snooze_above >= 0),
  state_changed_at timestamptz not null default now(),
  state_changed_by text,
  regressed_at     timestamptz,
  primary key (queue, fingerprint),
  check (state <> 'snoozed' or snoozed_until is not null or snooze_above is not null)
);

-- When each database role last acknowledged ("seen") a group: the DLQ screen marks a group new
-- for a role when it failed after that role's last acknowledgement (or was never acknowledged).
create table error_group_acks (
  queue       text not null,
  fingerprint text not null,
  db_role     text not null,
  acked_at    timestamptz not null default now(),
  primary key (queue, fingerprint, db_role),
  foreign key (queue, fingerprint) references error_groups (queue, fingerprint)
    on update cascade on delete cascade
);

-- What a DLQ requeue changed, per job, so the requeue can be undone from its audit row: the job's
-- fields before the requeue (the error fields are not touched by a requeue, and a job that has
-- not started since cannot have failed again, so they need no copy). A job deleted later takes
-- its row with it.
create table requeue_undo (
  audit_id      bigint not null,
  job_id        uuid not null references job_queue (id) on delete cascade,
  requeued_at   timestamptz not null default now(),
  attempt_count int not null,
  run_at        timestamptz not null,
  next_retry_at timestamptz,
  started_at    timestamptz,
  last_error_at timestamptz,
  primary key (audit_id, job_id)
);
create index requeue_undo_job_idx on requeue_undo (job_id);

-- Signatures that change: _requeue_dlq records the undo rows of its audit row; the batch
-- functions and the procedure take a fingerprint.
drop function _requeue_dlq(uuid[], boolean);
drop function requeue_dlq_batch(text, text, boolean, timestamptz, int, bigint);
drop function delete_dlq_batch(text, text, timestamptz, int, bigint);
drop procedure requeue_dlq(text, text, boolean, timestamptz, int, bigint);

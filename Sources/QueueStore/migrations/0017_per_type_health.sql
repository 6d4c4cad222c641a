-- 0017 — per-job-type health rollups and arrivals per minute (issue 19, items 5 and 6). The
-- functions that write and read them are changed in their canonical file,
-- migrations/repeatable/40_health.sql, which runs after this file in the same transaction
-- (docs/HEALTH.md: "Per-type figures" and "Drain forecast").

-- The trigger now passes each changed row's job_type on, and the event deltas keep it, so a
-- statement's deltas are one row per (queue, job_type, minute). Arrival rows (one per queue and
-- minute of an INSERT statement) carry no job_type.
alter type health_change add attribute job_type text;
alter table queue_event_deltas add column job_type text;

-- Jobs inserted into job_queue per minute: with completions and dead-letterings, the net rate of
-- the drain forecast. Rows already folded keep 0 (their arrivals were not recorded).
alter table queue_event_deltas add column arrived int not null default 0;
alter table queue_stats_minute add column arrived bigint not null default 0;
alter table queue_stats_hour add column arrived bigint not null default 0;

-- Per-type rollups of the rolling hour only: the last hour is all the per-type table shows, so
-- the minute rows exist to be subtracted when they slide out of the hour, then are deleted.
-- job_type '' is "other": the types a queue saw once it already tracked health_settings.type_cap
-- of them (job_type is never empty: 0001 checks length between 1 and 200). So a producer that
-- sends 10,000 distinct types adds at most type_cap + 1 rows per queue and minute.
create table queue_type_minute (
    queue         text        not null,
    minute        timestamptz not null,
    job_type      text        not null,
    completed     bigint      not null default 0,
    failed        bigint      not null default 0,
    dead_lettered bigint      not null default 0,
    primary key (queue, minute, job_type)
);
create index queue_type_minute_minute_idx on queue_type_minute (minute);

create table queue_type_latency_minute (
    queue    text        not null,
    minute   timestamptz not null,
    job_type text        not null,
    bucket   smallint    not null,
    count    bigint      not null,
    primary key (queue, minute, job_type, bucket)
);
create index queue_type_latency_minute_minute_idx on queue_type_latency_minute (minute);

-- The minutes >= health_settings.window_start, summed (as queue_latency_recent is for queues).
-- A row here is what makes a type "tracked": its events keep their name until it has been
-- silent for an hour and its row is deleted.
create table queue_type_recent (
    queue         text   not null,
    job_type      text   not null,
    completed     bigint not null default 0,
    failed        bigint not null default 0,
    dead_lettered bigint not null default 0,
    primary key (queue, job_type)
);

create table queue_type_latency_recent (
    queue    text     not null,
    job_type text     not null,
    bucket   smallint not null,
    count    bigint   not null,
    primary key (queue, job_type, bucket)
);

-- How many distinct types one queue tracks by name in the rolling hour; the rest are "other".
alter table health_settings add column type_cap int not null default 50
    check (type_cap between 1 and 1000);

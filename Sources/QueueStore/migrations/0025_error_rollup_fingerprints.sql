-- 0025 — the top-errors rollups group by fingerprint (issue 22 follow-up; docs/HEALTH.md
-- "Errors"). The error rollups (queue_error_deltas -> queue_errors_hour, queue_error_latest)
-- were keyed by (queue, [hour,] error_type); they now also carry the failure's fingerprint,
-- which _fail_jobs computes once per failure and stores on the job row, so the health trigger
-- copies it and nothing is normalised again at refresh. The functions and views that read and
-- write these tables live in repeatable/40_health.sql, which runs after this file.
--
-- The rollups hold at most 24 hours of (queue, hour, type) rows, so rewriting their keys here
-- is cheap; job_queue is not touched.

alter type health_change add attribute error_fingerprint text;

-- '' marks a row folded before this migration, or a failure recorded without a fingerprint.
alter table queue_error_deltas add column fingerprint text not null default '';
alter table queue_errors_hour  add column fingerprint text not null default '';
alter table queue_error_latest add column fingerprint text not null default '';

-- Rows folded before 0025 summed every message of a type: the best available grouping is
-- the fingerprint of their newest message. error_fingerprint exists from 0021's repeatable
-- file when upgrading from 0021 or later; on a fresh install (or an upgrade from before 0021)
-- it is created after this file, and the tables hold no error rows worth regrouping.
do $$
begin
  if to_regprocedure('error_fingerprint(text, text)') is not null then
    execute $u$
      update queue_error_deltas set fingerprint = error_fingerprint(nullif(error_type, 'unknown'), sample_message);
      update queue_errors_hour  set fingerprint = error_fingerprint(nullif(error_type, 'unknown'), sample_message);
      update queue_error_latest set fingerprint = error_fingerprint(nullif(error_type, 'unknown'), sample_message)
    $u$;
  end if;
end $$;

alter table queue_errors_hour drop constraint queue_errors_hour_pkey,
  add primary key (queue, hour, error_type, fingerprint);
alter table queue_error_latest drop constraint queue_error_latest_pkey,
  add primary key (queue, error_type, fingerprint);

-- The job explorer's indexes for rare values (scripts/bench, section search), each answering
-- `FIELD:value` newest first (ORDER BY id DESC) with one index range, whatever the value's share
-- of the table. The first two are migration 0026's (job_queue_tenant_id_idx, job_queue_key_id_idx:
-- the same definitions; `queuetop migrate` builds them CONCURRENTLY on a table with rows),
-- partial, so jobs without a tenant or a dedup key add no entry. The next five are migration
-- 0027's (the same definitions as QueueStore/OnlineIndexes.swift): (queue, job_type, id) for
-- queue:/type: (JobSearchSource's loose scans) and partial (id) indexes of running, dead,
-- cancelled and retrying jobs. The next four are migration 0031's: jobs whose created_at is
-- over a second before their id's time, or far from it (time filters read primary-key ranges
-- plus these), completed jobs, and never-attempted pending jobs due later than created. The next two are
-- 0033's: pending jobs due since their enqueue, and retries and scheduled jobs by kind and run_at
-- (state:pending / state:retrying by the due side). The last two are candidates that
-- were measured and not adopted.
-- The section measures what 0026's and 0027's buy (the searches at the largest size, after
-- `queuetop migrate` built them) and what the sets cost (enqueue, claim and complete throughput
-- without and with them).
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_tenant_id_idx ON job_queue (tenant, id) WHERE tenant IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_key_id_idx ON job_queue (dedup_key, id) WHERE dedup_key IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_queue_type_id_idx ON job_queue (queue, job_type, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_running_id_idx ON job_queue (id) WHERE status = 'processing' OR locked_by IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_dead_id_idx ON job_queue (id) WHERE status IN ('dead_letter', 'failed');
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_cancelled_id_idx ON job_queue (id) WHERE status = 'cancelled';
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_retrying_id_idx ON job_queue (id) WHERE status = 'pending' AND attempt_count > 0;
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_time_late_id_idx ON job_queue (id) WHERE (created_at - to_timestamp(('x' || encode(substring(uuid_send(id) from 1 for 6), 'hex'))::bit(48)::bigint / 1000.0::float8)) BETWEEN interval '-1 minute' AND interval '-1 s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_time_drift_id_idx ON job_queue (id) WHERE (created_at - to_timestamp(('x' || encode(substring(uuid_send(id) from 1 for 6), 'hex'))::bit(48)::bigint / 1000.0::float8)) NOT BETWEEN interval '-1 minute' AND interval '1 ms';
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_completed_id_idx ON job_queue (id) WHERE status = 'completed';
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_scheduled_id_idx ON job_queue (id) WHERE status = 'pending' AND attempt_count = 0 AND run_at > created_at;
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_ready_id_idx ON job_queue (id) WHERE status = 'pending' AND attempt_count = 0 AND run_at <= created_at;
CREATE INDEX CONCURRENTLY IF NOT EXISTS job_queue_deferred_run_at_idx ON job_queue (((attempt_count > 0)::int), run_at, id) WHERE status = 'pending' AND (attempt_count > 0 OR run_at > created_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS bench_job_queue_queue_id_idx ON job_queue (queue, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS bench_job_queue_type_id_idx ON job_queue (job_type, id);

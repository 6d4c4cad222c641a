-- Candidate indexes for the job explorer's rare values (scripts/bench, section search): each
-- answers `FIELD:value` newest first (ORDER BY id DESC) with one index range, whatever the
-- value's share of the table. Partial where the field is often empty, so jobs without a tenant
-- or a dedup key add no entry. The section measures what they buy (the searches at the largest
-- size) and what they cost (enqueue, claim and complete throughput with and without them).
CREATE INDEX CONCURRENTLY IF NOT EXISTS bench_job_queue_tenant_id_idx ON job_queue (tenant, id) WHERE tenant IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS bench_job_queue_key_id_idx ON job_queue (dedup_key, id) WHERE dedup_key IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS bench_job_queue_queue_id_idx ON job_queue (queue, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS bench_job_queue_type_id_idx ON job_queue (job_type, id);

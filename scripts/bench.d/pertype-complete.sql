set search_path=queuetop;
INSERT INTO queues (name) VALUES ('tq') ON CONFLICT DO NOTHING;
INSERT INTO job_queue (queue, job_type) SELECT 'tq', format('type-%s', 1 + i % 50) FROM generate_series(1, 5000) i;
SELECT count(*) FROM claim_jobs('wb', ARRAY['tq'], 5000);
CREATE TEMP TABLE ids AS SELECT array_agg(id) AS ids, array_agg((exp(random() * 9))::int) AS ms FROM job_queue WHERE locked_by = 'wb' AND status = 'processing';
\timing on
SELECT complete_jobs('wb', ids, ms) FROM ids;
-- The fold of those 5,000 completions' deltas (into the per-type rollups among others).
SELECT health_fold();
\timing off
DELETE FROM job_queue WHERE queue = 'tq';
SELECT health_fold();

set search_path = queuetop;
INSERT INTO queues (name) SELECT format('q%s', q) FROM generate_series(1, 20) q ON CONFLICT DO NOTHING;
-- 1 M completed jobs in the last hour: 20 queues x 50 types, lognormal-ish latencies, in 10 statements.
DO $$
BEGIN
  FOR b IN 0..9 LOOP
    INSERT INTO job_queue (queue, job_type, status, created_at, started_at, completed_at, processing_time_ms)
    SELECT format('q%s', 1 + i % 20), format('type-%s', 1 + (i / 20) % 50), 'completed',
           now() - interval '2 hours', now() - interval '2 hours',
           now() - (random() * interval '55 minutes'), (exp(random() * 9))::int
    FROM generate_series(b * 100000, b * 100000 + 99999) i;
  END LOOP;
END $$;
SELECT health_fold();
SELECT count(*) FROM job_queue;

-- The job explorer's rows (scripts/bench, section search): jobs :lo..:hi of :n, set-based (one
-- INSERT … SELECT per chunk, no per-job enqueue). Seed-shaped: queues emails and sync (half
-- each), three types, the 7 states in turn (pending due, scheduled, retrying, running,
-- completed, cancelled, dead), 100 tenants, a dedup key on every 11th job (each its own),
-- payloads with `to`, `order.id` and, on every 4th, `coupon`; one job every 10 ms going back
-- from now, ids UUIDv7-shaped from that time. Rare values, three jobs each spread over the
-- table (at a third, two thirds and the end): tenant shop-rare, queue audit, type
-- rebuild_index; ana@example.com's job is the middle one.
INSERT INTO job_queue (id, queue, job_type, payload, status, run_at, attempt_count, next_retry_at, dedup_key, tenant,
                       locked_by, heartbeat_at, created_at, started_at, completed_at, error_message, error_type,
                       last_error_at, cancel_reason)
SELECT encode(overlay(uuid_send(gen_random_uuid()) PLACING
         substring(int8send((extract(epoch FROM c) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid,
       CASE WHEN r = 8 THEN 'audit' WHEN g % 2 = 0 THEN 'emails' ELSE 'sync' END,
       CASE WHEN r = 9 THEN 'rebuild_index' ELSE (ARRAY['send_email', 'sync_store', 'send_campaign'])[g % 3 + 1] END,
       CASE WHEN g = (:n / 2) THEN '{"to": "ana@example.com", "order": {"id": 1}}'::jsonb
            WHEN g % 4 = 2 THEN jsonb_build_object('to', 'user' || g || '@example.com', 'order', jsonb_build_object('id', g), 'coupon', 'X')
            ELSE jsonb_build_object('to', 'user' || g || '@example.com', 'order', jsonb_build_object('id', g)) END,
       (ARRAY['pending', 'pending', 'pending', 'processing', 'completed', 'cancelled', 'dead_letter'])[s + 1],
       CASE s WHEN 1 THEN now() + interval '1 hour' WHEN 2 THEN now() + interval '10 minutes' ELSE c END,
       CASE s WHEN 2 THEN 2 WHEN 6 THEN 5 ELSE 0 END,
       CASE s WHEN 2 THEN now() + interval '10 minutes' END,
       CASE WHEN g % 11 = 0 THEN 'store:' || g END,
       CASE WHEN r = 7 THEN 'shop-rare' ELSE 'shop-' || (g % 100) END,
       CASE s WHEN 3 THEN 'host-' || (g % 4) || ':1' END, CASE s WHEN 3 THEN now() END, c,
       CASE WHEN s IN (3, 4) THEN c END, CASE WHEN s IN (4, 5) THEN c END,
       CASE WHEN s IN (2, 6) THEN 'SMTP 550 mailbox unavailable' END, CASE WHEN s IN (2, 6) THEN 'smtp_error' END,
       CASE WHEN s IN (2, 6) THEN c END, CASE WHEN s = 5 THEN 'operator' END
FROM generate_series(:lo, :hi) g,
     LATERAL (SELECT now() - (:n - g) * interval '10 ms' AS c, g % 7 AS s, g % (:n / 3) AS r) x;

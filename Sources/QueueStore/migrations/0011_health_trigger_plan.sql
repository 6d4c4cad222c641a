-- 0011 — the health trigger on job_queue UPDATEs, made linear and cheap for claims.
--
-- health_job_queue_trigger() (0003) runs after every UPDATE statement on job_queue: each claim,
-- completion, failure and heartbeat batch of a worker. Two costs, measured (docs/BENCHMARKS.md):
--
-- 1. Its join of new_rows to old_rows on id. PL/pgSQL plans that statement once per session and
--    keeps the plan: it has no parameters, so it is never re-planned for the size of the
--    transition tables. A worker's first UPDATE usually touches no row or one (a claim on an
--    empty queue, a heartbeat), so the cached plan was a nested loop, and from then on every
--    claim and completion of n jobs compared n × n rows: at a batch of 200, 40,000 row pairs and
--    ~10 ms per statement (EXPLAIN ANALYZE: "Rows Removed by Join Filter: 39800"; a hash join of
--    the same rows takes ~0.25 ms). perf put half of the fetcher's backend CPU there while a
--    producer was enqueuing, and the worker fell behind. Fix: the function runs with
--    enable_nestloop off, so whatever plan it caches joins by hashing (or merging), linear in
--    the batch. The setting applies only while the trigger (and health_record_changes, which
--    it calls) runs; the statement that fired it is already planned.
--
-- 2. Every UPDATE built one health_change per changed row and passed the array on, even a claim,
--    which only moves counters (pending -> processing). With the trigger on, the raw claim +
--    complete limit (pgbench, batch 100) was ~17 % lower than with it off. Now the counters come
--    straight from the transition tables, as for INSERT and DELETE: +1 per new (queue, status),
--    -1 per old one; a row whose queue and status did not change adds +1 and -1 to the same
--    counter, so the sums are those of 0003's join. The per-row join runs only when a new row
--    can carry an event (completed, failed or dead-lettered, or an error recorded), and passes
--    just those rows, without old_status, so health_record_changes records their events and
--    adds no counter twice. Same figures, same tables, as docs/HEALTH.md describes.
--
-- INSERT and DELETE are unchanged. Not SECURITY DEFINER (0003's was not either): it runs as
-- whoever runs the statement, which for workers is the claim/complete functions' owner.
create or replace function health_job_queue_trigger() returns trigger
language plpgsql
set enable_nestloop = off
as $$
DECLARE
    changes health_change[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO queue_count_deltas (queue, status, delta)
        SELECT queue, status, count(*) FROM new_rows GROUP BY 1, 2;
        changes := ARRAY(
            SELECT ROW(n.queue, n.status, NULL, NULL, n.status = 'completed', n.status IN ('failed', 'dead_letter'),
                       n.status = 'dead_letter',
                       CASE WHEN n.status = 'completed' THEN coalesce(n.completed_at, now())
                            ELSE coalesce(n.last_error_at, now()) END,
                       n.processing_time_ms, n.error_type, n.error_message)::health_change
            FROM new_rows n
            WHERE n.status IN ('completed', 'failed', 'dead_letter'));
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO queue_count_deltas (queue, status, delta)
        SELECT x.queue, x.status, sum(x.d)
        FROM (SELECT n.queue, n.status, 1 AS d FROM new_rows n
              UNION ALL
              SELECT o.queue, o.status, -1 FROM old_rows o) x
        GROUP BY 1, 2
        HAVING sum(x.d) <> 0;
        -- Events: only a row that is now completed, failed or dead-lettered, or that has an
        -- error recorded, can carry one. Claims, heartbeats and releases stop here.
        IF EXISTS (SELECT 1 FROM new_rows n
                   WHERE n.status IN ('completed', 'failed', 'dead_letter') OR n.last_error_at IS NOT NULL) THEN
            changes := ARRAY(
                SELECT ROW(n.queue, n.status, NULL, NULL, c.completed, c.failed,
                           n.status = 'dead_letter' AND o.status <> 'dead_letter',
                           CASE WHEN c.completed THEN coalesce(n.completed_at, now())
                                ELSE coalesce(n.last_error_at, now()) END,
                           n.processing_time_ms, n.error_type, n.error_message)::health_change
                FROM new_rows n
                JOIN old_rows o ON o.id = n.id
                CROSS JOIN LATERAL (SELECT
                    n.status = 'completed' AND o.status <> 'completed' AS completed,
                    (n.last_error_at IS NOT NULL AND n.last_error_at IS DISTINCT FROM o.last_error_at)
                      OR (n.status IN ('failed', 'dead_letter') AND o.status NOT IN ('failed', 'dead_letter'))
                      AS failed) c
                WHERE c.completed OR c.failed OR (n.status = 'dead_letter' AND o.status <> 'dead_letter'));
        END IF;
    ELSE
        -- Deletes (retention, operator deletes) change counts only; they are not events.
        INSERT INTO queue_count_deltas (queue, status, delta)
        SELECT queue, status, -count(*) FROM old_rows GROUP BY 1, 2;
    END IF;
    IF cardinality(changes) > 0 THEN
        PERFORM health_record_changes(changes);
    END IF;
    RETURN NULL;
END $$;

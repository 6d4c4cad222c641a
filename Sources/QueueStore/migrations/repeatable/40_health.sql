-- Queue health: counters and rollups whose read cost does not grow with job_queue
-- (docs/HEALTH.md: the design, the latency error bound and the measured refresh times).
--
-- Write path: statement-level triggers on job_queue read the transition tables and INSERT deltas
-- into insert-only tables (no UPDATE, so no hot row and no lock for workers to queue on, even
-- while their commit waits for the WAL flush). Fold path: health_fold() (one folder at a time,
-- pg_try_advisory_xact_lock) moves the deltas into the per-queue tables with sorted upserts.
-- Read path: folded rows UNION ALL unfolded deltas, so every figure is exact at any moment,
-- folded or not. health_prune, health_fold, health_rebuild and queue_health_snapshot run as the
-- owner (90_privileges.sql): they write the rollups, which no role may write directly.
--
-- Repeatable (docs/SQL_LAYOUT.md): the one definition of each object below. All repeatable
-- files run in name order, in one transaction, with search_path = <schema>, pg_temp; bodies name
-- no schema. SECURITY DEFINER, each function's search_path and every grant are set by
-- 90_privileges.sql, which runs last. A change CREATE OR REPLACE cannot make (a new return type,
-- a dropped argument, a view losing a column) needs a versioned migration that drops the object.

-- =============================================================================================
-- Latency buckets

-- Bucket b >= 0 holds [1.1^b, 1.1^(b+1)) ms; bucket -1 holds 0 ms (and clamps negatives).
-- Reporting the geometric midpoint 1.1^(b+0.5) is off by at most sqrt(1.1) - 1 = 4.881 % for
-- any value in the bucket; health_bucket_value() also clamps it into the integers the bucket can
-- hold, which only moves it closer (a bucket holding one integer reports it exactly).
create or replace function health_bucket(ms int) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ms IS NULL THEN NULL
                WHEN ms <= 0 THEN -1
                ELSE floor(ln(ms) / ln(1.1))::smallint END
$$;

create or replace function health_bucket_value(bucket smallint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN bucket < 0 THEN 0::float8
                ELSE greatest(ceil(power(1.1::float8, bucket)),
                              least(power(1.1::float8, bucket + 0.5),
                                    ceil(power(1.1::float8, bucket + 1)) - 1)) END
$$;

-- A tracked type's rolling-hour histogram is held on its queue_type_recent row as two arrays
-- (0029): `buckets` ascending, each once, and `cums`, the count of samples in that bucket and
-- every lower one. Cumulative, so a reader finds the bucket holding rank r by binary search
-- (width_bucket(r, cums)) without summing anything; whoever changes a histogram (the fold, once
-- per type and fold) re-sums it. This gives the histogram back as (bucket, count) rows.
create or replace function health_hist_counts(buckets smallint[], cums bigint[])
RETURNS TABLE (bucket smallint, n bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT u.bucket, u.cum - coalesce(cums[u.i - 1], 0)
    FROM unnest(buckets, cums) WITH ORDINALITY AS u(bucket, cum, i)
$$;

-- A stored cumulative histogram plus (bucket, count) pairs (in any order, repeats allowed;
-- negative counts subtract), cumulated again; a bucket left at 0 is dropped, and an empty
-- result is (NULL, NULL). The stored counts come back out as health_hist_counts does (written
-- out here: a pure helper's body names no other object). Called once per changed type
-- (LATERAL) by the fold and the slide: each call sorts one type's ~100 buckets, where one
-- set-based pass over every type sorted and windowed all of them together (~80,000 rows for
-- the slide of 1,000 types, spilling to disk at the default work_mem), about 3x the time.
create or replace function health_hist_merge(b smallint[], c bigint[], add_b smallint[], add_n bigint[])
RETURNS TABLE (merged_buckets smallint[], merged_cums bigint[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(y.bucket ORDER BY y.bucket), array_agg(y.cum ORDER BY y.bucket)
    FROM (SELECT x.bucket, sum(sum(x.n)) OVER (ORDER BY x.bucket)::bigint AS cum
          FROM (SELECT u.bucket, u.cum - coalesce(c[u.i - 1], 0) AS n
                FROM unnest(b, c) WITH ORDINALITY AS u(bucket, cum, i)
                UNION ALL
                SELECT u.bucket, u.n FROM unnest(add_b, add_n) AS u(bucket, n)) x
          GROUP BY x.bucket
          HAVING sum(x.n) > 0) y
$$;

-- The same for a minute's plain (not cumulative) counts, as queue_type_minute holds them (0030).
create or replace function health_hist_sum(b smallint[], n int[], add_b smallint[], add_n int[])
RETURNS TABLE (sum_buckets smallint[], sum_counts int[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(y.bucket ORDER BY y.bucket), array_agg(y.n ORDER BY y.bucket)
    FROM (SELECT x.bucket, sum(x.n)::int AS n
          FROM (SELECT u.bucket, u.n FROM unnest(b, n) AS u(bucket, n)
                UNION ALL
                SELECT u.bucket, u.n FROM unnest(add_b, add_n) AS u(bucket, n)) x
          GROUP BY x.bucket
          HAVING sum(x.n) > 0) y
$$;

-- The stated bound, in one place, so views and the snapshot quote the same figure.
create or replace function health_latency_relative_error() RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT sqrt(1.1::float8) - 1 $$;

-- RFC 3339 in UTC, second precision: the one timestamp format of the snapshot.
create or replace function health_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- =============================================================================================
-- Write path

-- Records the events of one statement. A completion is a row entering 'completed'; a failed
-- attempt is a row whose last_error_at moved (fail_job/fail_jobs) or that entered failed or
-- dead_letter by other means; a dead-lettering is a row entering 'dead_letter'. Events are dated
-- by completed_at / last_error_at, so back-dated rows land in the right minute.
create or replace function health_record_changes(changes health_change[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- Counters, for updates (inserts and deletes count straight from their transition table).
    INSERT INTO queue_count_deltas (queue, status, delta)
    SELECT x.queue, x.status, sum(x.d)
    FROM (SELECT c.queue, c.status, 1 AS d FROM unnest(changes) c WHERE c.old_status IS NOT NULL
          UNION ALL
          SELECT c.old_queue, c.old_status, -1 FROM unnest(changes) c WHERE c.old_status IS NOT NULL) x
    GROUP BY 1, 2
    HAVING sum(x.d) <> 0;

    IF NOT EXISTS (SELECT 1 FROM unnest(changes) c WHERE c.completed OR c.failed OR c.dead_lettered) THEN
        RETURN;   -- claims, releases, requeues, cancels: counts only
    END IF;
    -- One delta row per (queue, job_type, minute): the fold sums them per queue and per type.
    WITH e AS (
        SELECT c.queue, c.job_type, date_trunc('minute', c.at) AS minute, c.completed, c.failed, c.dead_lettered,
               greatest(c.ms, 0) AS ms
        FROM unnest(changes) c
        WHERE c.completed OR c.failed OR c.dead_lettered
    ), b AS (
        SELECT queue, job_type, minute, health_bucket(ms) AS bucket, count(*)::int AS n
        FROM e WHERE completed AND ms IS NOT NULL
        GROUP BY 1, 2, 3, 4
    ), h AS (
        SELECT queue, job_type, minute, array_agg(bucket ORDER BY bucket) AS buckets, array_agg(n ORDER BY bucket) AS counts
        FROM b GROUP BY 1, 2, 3
    ), s AS (
        SELECT queue, job_type, minute,
               count(*) FILTER (WHERE completed) AS completed,
               count(*) FILTER (WHERE failed) AS failed,
               count(*) FILTER (WHERE dead_lettered) AS dead_lettered,
               count(ms) FILTER (WHERE completed) AS ms_count,
               coalesce(sum(ms) FILTER (WHERE completed), 0) AS sum_ms,
               max(ms) FILTER (WHERE completed) AS max_ms
        FROM e GROUP BY 1, 2, 3
    )
    INSERT INTO queue_event_deltas
        (queue, job_type, minute, completed, failed, dead_lettered, ms_count, sum_ms, max_ms, lat_buckets, lat_counts)
    SELECT s.queue, s.job_type, s.minute, s.completed, s.failed, s.dead_lettered, s.ms_count, s.sum_ms, s.max_ms,
           coalesce(h.buckets, '{}'), coalesce(h.counts, '{}')
    FROM s LEFT JOIN h ON h.queue = s.queue AND h.minute = s.minute AND h.job_type IS NOT DISTINCT FROM s.job_type;

    -- Errors per (queue, hour, type, fingerprint). The fingerprint is the one _fail_jobs stored
    -- on the row; only a failure recorded some other way (a direct UPDATE or INSERT, a row
    -- failed before 0021) has none, and gets it computed here, once.
    INSERT INTO queue_error_deltas (queue, hour, error_type, fingerprint, count, last_seen, sample_message)
    SELECT c.queue, date_trunc('hour', c.at, 'UTC'), coalesce(c.error_type, 'unknown'),
           coalesce(c.error_fingerprint, error_fingerprint(c.error_type, c.error_message)), count(*),
           max(c.at), (array_agg(c.error_message ORDER BY c.at DESC))[1]
    FROM unnest(changes) c
    WHERE c.failed
    GROUP BY 1, 2, 3, 4;
END $$;

-- Runs after every INSERT, UPDATE and DELETE statement on job_queue (each claim, completion,
-- failure and heartbeat batch of a worker) and turns its transition tables into deltas.
-- Counters come straight from the transition tables: +1 per new (queue, status), -1 per old
-- one; a row whose queue and status did not change adds +1 and -1 to the same counter. The
-- per-row join of new_rows to old_rows runs only when a new row can carry an event (completed,
-- failed or dead-lettered, or an error recorded), and passes just those rows, without
-- old_status, so health_record_changes records their events and adds no counter twice. A claim
-- only moves counters: building one health_change per claimed row cost ~17 % of the raw claim +
-- complete limit (pgbench, batch 100; docs/BENCHMARKS.md).
--
-- enable_nestloop is off while it runs: PL/pgSQL plans the join once per session and keeps the
-- plan (it has no parameters, so it is never re-planned for the size of the transition tables).
-- A worker's first UPDATE usually touches no row or one, so a cached nested loop then compared
-- n × n rows for every batch of n jobs (200 jobs: 40,000 row pairs, ~10 ms, against ~0.25 ms
-- hashed). With nested loops off, whatever plan it caches is linear in the batch. The setting
-- applies only while the trigger (and health_record_changes, which it calls) runs; the
-- statement that fired it is already planned.
--
-- Not SECURITY DEFINER: it runs as whoever runs the statement, which for workers is the
-- claim/complete functions' owner.
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
        -- Arrivals, for the drain forecast: every inserted row, dated by created_at. A row
        -- inserted already finished also counts its completion, so it nets to zero.
        INSERT INTO queue_event_deltas
            (queue, minute, arrived, completed, failed, dead_lettered, ms_count, sum_ms, lat_buckets, lat_counts)
        SELECT queue, date_trunc('minute', coalesce(created_at, now())), count(*), 0, 0, 0, 0, 0, '{}', '{}'
        FROM new_rows GROUP BY 1, 2;
        changes := ARRAY(
            SELECT ROW(n.queue, n.status, NULL, NULL, n.status = 'completed', n.status IN ('failed', 'dead_letter'),
                       n.status = 'dead_letter',
                       CASE WHEN n.status = 'completed' THEN coalesce(n.completed_at, now())
                            ELSE coalesce(n.last_error_at, now()) END,
                       n.processing_time_ms, n.error_type, n.error_message, n.job_type,
                       n.error_fingerprint)::health_change
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
                           n.processing_time_ms, n.error_type, n.error_message, n.job_type,
                           n.error_fingerprint)::health_change
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

-- Transition tables allow one event per trigger, hence three triggers on one function.
create or replace trigger job_queue_health_insert AFTER INSERT ON job_queue
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION health_job_queue_trigger();

create or replace trigger job_queue_health_update AFTER UPDATE ON job_queue
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION health_job_queue_trigger();

create or replace trigger job_queue_health_delete AFTER DELETE ON job_queue
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION health_job_queue_trigger();

-- TRUNCATE holds ACCESS EXCLUSIVE on job_queue, so no writer can race this reset.
create or replace function health_job_queue_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM queue_count_deltas;
    DELETE FROM queue_counts;
    RETURN NULL;
END $$;

create or replace trigger job_queue_health_truncate AFTER TRUNCATE ON job_queue
    FOR EACH STATEMENT EXECUTE FUNCTION health_job_queue_truncated();

-- =============================================================================================
-- Fold path

-- Deletes prune rollups older than health_settings.retention (default 7 days). health_fold()
-- calls it every 10 minutes; call it yourself to prune now or with another age.
create or replace function health_prune(older_than interval DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz;
    n bigint := 0;
    k bigint;
BEGIN
    -- Never a minute of the rolling hour: the fold subtracts those rows when they leave it.
    SELECT least(now() - coalesce(older_than, retention), window_start) INTO cutoff FROM health_settings;
    DELETE FROM queue_stats_minute WHERE minute < cutoff;   GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM queue_latency_minute WHERE minute < cutoff; GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM queue_stats_hour WHERE hour < cutoff;       GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM queue_errors_hour WHERE hour < cutoff;      GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    -- One row per fingerprint ever seen: drop those no rollup row can still need.
    DELETE FROM queue_error_latest WHERE last_seen < cutoff; GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    UPDATE health_settings SET last_pruned_at = now();
    RETURN n;
END $$;

-- Moves every committed delta into the rollups. Only one session folds at a time; the others
-- return false at once (their reads stay exact: they add the unfolded deltas). Upserts go in key
-- order, so a fold never deadlocks with anything that writes the rollups in the same order.
create or replace function health_fold() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    new_start timestamptz := date_trunc('minute', now()) - interval '59 minutes';
    old_start timestamptz;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('queuetop.health_fold')) THEN
        RETURN false;
    END IF;

    WITH d AS (DELETE FROM queue_count_deltas RETURNING queue, status, delta)
    INSERT INTO queue_counts AS c (queue, status, n)
    SELECT queue, status, sum(delta) FROM d GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (queue, status) DO UPDATE SET n = c.n + EXCLUDED.n;

    -- Slide the rolling hour: subtract the folded minutes that left it.
    SELECT window_start INTO old_start FROM health_settings;
    IF new_start > old_start THEN
        UPDATE queue_latency_recent r SET count = r.count - m.n
        FROM (SELECT queue, bucket, sum(count) AS n FROM queue_latency_minute
              WHERE minute >= old_start AND minute < new_start GROUP BY 1, 2) m
        WHERE r.queue = m.queue AND r.bucket = m.bucket;
        DELETE FROM queue_latency_recent WHERE count <= 0;
        -- Per type the same, and the minute rows are then spent: per type only the hour is kept.
        -- A type whose row empties is no longer tracked, which frees its place under type_cap.
        -- A histogram (0029: cumulative arrays on the type's row) loses those minutes' buckets in
        -- one set-based pass over the types that had any: counts back out of the arrays, minus
        -- the minutes, a bucket left at 0 dropped, summed up again.
        WITH gone AS (
            SELECT queue, job_type, sum(completed) AS c, sum(failed) AS f, sum(dead_lettered) AS dl
            FROM queue_type_minute WHERE minute >= old_start AND minute < new_start GROUP BY 1, 2
        ), gone_hist AS (
            SELECT m.queue, m.job_type, u.bucket, sum(u.n) AS n
            FROM queue_type_minute m, unnest(m.lat_buckets, m.lat_counts) AS u(bucket, n)
            WHERE m.minute >= old_start AND m.minute < new_start GROUP BY 1, 2, 3
        ), left_hist AS (
            SELECT r.queue, r.job_type, m.merged_buckets AS buckets, m.merged_cums AS cums
            FROM (SELECT queue, job_type, array_agg(bucket) AS b, array_agg(-n) AS n FROM gone_hist GROUP BY 1, 2) g
            JOIN queue_type_recent r ON r.queue = g.queue AND r.job_type = g.job_type
            CROSS JOIN LATERAL health_hist_merge(r.lat_buckets, r.lat_cums, g.b, g.n::bigint[]) m
        )
        UPDATE queue_type_recent r SET completed = r.completed - m.c, failed = r.failed - m.f,
                                       dead_lettered = r.dead_lettered - m.dl,
                                       lat_buckets = CASE WHEN m.had_hist THEN coalesce(m.buckets, '{}') ELSE r.lat_buckets END,
                                       lat_cums = CASE WHEN m.had_hist THEN coalesce(m.cums, '{}') ELSE r.lat_cums END
        FROM (SELECT g.*, EXISTS (SELECT 1 FROM gone_hist x WHERE x.queue = g.queue AND x.job_type = g.job_type) AS had_hist,
                     h.buckets, h.cums
              FROM gone g LEFT JOIN left_hist h ON h.queue = g.queue AND h.job_type = g.job_type) m
        WHERE r.queue = m.queue AND r.job_type = m.job_type;
        DELETE FROM queue_type_recent WHERE completed <= 0 AND failed <= 0;
        DELETE FROM queue_type_minute WHERE minute < new_start;
        UPDATE health_settings SET window_start = new_start;
    END IF;

    -- One statement: every data-modifying CTE runs to completion, each reading the same deletes.
    WITH d AS (DELETE FROM queue_event_deltas RETURNING *),
    recent AS (
        INSERT INTO queue_latency_recent AS t (queue, bucket, count)
        SELECT d.queue, u.bucket, sum(u.n)
        FROM d, unnest(d.lat_buckets, d.lat_counts) AS u(bucket, n)
        WHERE d.minute >= greatest(new_start, old_start)
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (queue, bucket) DO UPDATE SET count = t.count + EXCLUDED.count
        RETURNING 1
    ),
    by_minute AS (
        INSERT INTO queue_stats_minute AS t (queue, minute, completed, failed, dead_lettered, ms_count, sum_ms, max_ms, arrived)
        SELECT queue, minute, sum(completed), sum(failed), sum(dead_lettered), sum(ms_count), sum(sum_ms), max(max_ms), sum(arrived)
        FROM d GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (queue, minute) DO UPDATE SET
            completed = t.completed + EXCLUDED.completed, failed = t.failed + EXCLUDED.failed,
            dead_lettered = t.dead_lettered + EXCLUDED.dead_lettered, ms_count = t.ms_count + EXCLUDED.ms_count,
            sum_ms = t.sum_ms + EXCLUDED.sum_ms, max_ms = greatest(t.max_ms, EXCLUDED.max_ms),
            arrived = t.arrived + EXCLUDED.arrived
        RETURNING 1
    ), by_hour AS (
        INSERT INTO queue_stats_hour AS t (queue, hour, completed, failed, dead_lettered, ms_count, sum_ms, max_ms, arrived)
        SELECT queue, date_trunc('hour', minute, 'UTC'), sum(completed), sum(failed), sum(dead_lettered),
               sum(ms_count), sum(sum_ms), max(max_ms), sum(arrived)
        FROM d GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (queue, hour) DO UPDATE SET
            completed = t.completed + EXCLUDED.completed, failed = t.failed + EXCLUDED.failed,
            dead_lettered = t.dead_lettered + EXCLUDED.dead_lettered, ms_count = t.ms_count + EXCLUDED.ms_count,
            sum_ms = t.sum_ms + EXCLUDED.sum_ms, max_ms = greatest(t.max_ms, EXCLUDED.max_ms),
            arrived = t.arrived + EXCLUDED.arrived
        RETURNING 1
    ),
    -- Per type: each (queue, job_type) of these deltas keeps its name if the queue tracks it
    -- already, or if it is among the (type_cap - tracked) busiest new ones; the rest fold into
    -- '' ("other"). keyed reads queue_type_recent as it was before this statement. Events older
    -- than the rolling hour (back-dated rows) have no per-type figure to join: they are skipped.
    -- MATERIALIZED: computed once. Inlined, a plan made while queue_event_deltas looked empty
    -- (it usually is when analyzed) joined it to d by nested loop and recomputed it, with its
    -- scans of queue_type_recent, once per delta row: 50 deltas over 1,100 tracked types read
    -- ~100,000 buffers, most of such a fold's time.
    keyed AS MATERIALIZED (
        SELECT s.queue, s.job_type,
               CASE WHEN r.job_type IS NOT NULL
                      OR row_number() OVER (PARTITION BY s.queue, r.job_type IS NULL ORDER BY s.n DESC, s.job_type)
                         <= (SELECT type_cap FROM health_settings) - coalesce(t.n, 0)
                    THEN s.job_type ELSE '' END AS key
        FROM (SELECT queue, job_type, sum(completed + failed) AS n FROM d
              WHERE job_type IS NOT NULL AND minute >= greatest(new_start, old_start) GROUP BY 1, 2) s
        LEFT JOIN queue_type_recent r ON r.queue = s.queue AND r.job_type = s.job_type
        LEFT JOIN (SELECT queue, count(*) AS n FROM queue_type_recent
                   WHERE job_type <> '' AND queue IN (SELECT queue FROM d) GROUP BY 1) t ON t.queue = s.queue
    ),
    typed AS (
        SELECT d.queue, k.key AS job_type, d.minute, d.completed, d.failed, d.dead_lettered, d.lat_buckets, d.lat_counts
        FROM d JOIN keyed k ON k.queue = d.queue AND k.job_type = d.job_type
        WHERE d.minute >= greatest(new_start, old_start)
    ),
    minute_hist AS MATERIALIZED (
        -- Each folded (queue, minute, type)'s histogram (0030: arrays on its queue_type_minute
        -- row): the stored counts plus these deltas'. Read as of before this statement; only the
        -- folder (holding the advisory lock) writes these rows. MATERIALIZED, as keyed is, and
        -- type_hist below: a nested loop would otherwise recompute it for each row it joins.
        SELECT a.queue, a.minute, a.job_type, m.sum_buckets AS buckets, m.sum_counts AS counts
        FROM (SELECT y.queue, y.minute, y.job_type, array_agg(u.bucket) AS b, array_agg(u.n) AS n
              FROM typed y, unnest(y.lat_buckets, y.lat_counts) AS u(bucket, n) GROUP BY 1, 2, 3) a
        LEFT JOIN queue_type_minute t ON t.queue = a.queue AND t.minute = a.minute AND t.job_type = a.job_type
        CROSS JOIN LATERAL health_hist_sum(t.lat_buckets, t.lat_counts, a.b, a.n) m
    ), type_minute AS (
        -- A minute without new samples keeps its arrays (no minute_hist row).
        INSERT INTO queue_type_minute AS t (queue, minute, job_type, completed, failed, dead_lettered, lat_buckets, lat_counts)
        SELECT s.queue, s.minute, s.job_type, s.c, s.f, s.dl, coalesce(h.buckets, '{}'), coalesce(h.counts, '{}')
        FROM (SELECT queue, minute, job_type, sum(completed) AS c, sum(failed) AS f, sum(dead_lettered) AS dl
              FROM typed GROUP BY 1, 2, 3) s
        LEFT JOIN minute_hist h ON h.queue = s.queue AND h.minute = s.minute AND h.job_type = s.job_type
        ORDER BY 1, 2, 3
        ON CONFLICT (queue, minute, job_type) DO UPDATE SET
            completed = t.completed + EXCLUDED.completed, failed = t.failed + EXCLUDED.failed,
            dead_lettered = t.dead_lettered + EXCLUDED.dead_lettered,
            lat_buckets = CASE WHEN cardinality(EXCLUDED.lat_buckets) > 0 THEN EXCLUDED.lat_buckets ELSE t.lat_buckets END,
            lat_counts = CASE WHEN cardinality(EXCLUDED.lat_buckets) > 0 THEN EXCLUDED.lat_counts ELSE t.lat_counts END
        RETURNING 1
    ), type_hist AS MATERIALIZED (
        -- Each folded type's histogram (0029: cumulative arrays on its queue_type_recent row):
        -- its stored buckets plus these deltas', re-cumulated. Read as of before this statement,
        -- like keyed; type_recent below writes the result.
        SELECT a.queue, a.job_type, m.merged_buckets AS buckets, m.merged_cums AS cums
        FROM (SELECT y.queue, y.job_type, array_agg(u.bucket) AS b, array_agg(u.n::bigint) AS n
              FROM typed y, unnest(y.lat_buckets, y.lat_counts) AS u(bucket, n) GROUP BY 1, 2) a
        LEFT JOIN queue_type_recent r ON r.queue = a.queue AND r.job_type = a.job_type
        CROSS JOIN LATERAL health_hist_merge(r.lat_buckets, r.lat_cums, a.b, a.n) m
    ), type_recent AS (
        -- A type without new samples keeps its arrays (no type_hist row).
        INSERT INTO queue_type_recent AS t (queue, job_type, completed, failed, dead_lettered, lat_buckets, lat_cums)
        SELECT s.queue, s.job_type, s.c, s.f, s.dl, coalesce(h.buckets, '{}'), coalesce(h.cums, '{}')
        FROM (SELECT queue, job_type, sum(completed) AS c, sum(failed) AS f, sum(dead_lettered) AS dl
              FROM typed GROUP BY 1, 2) s
        LEFT JOIN type_hist h ON h.queue = s.queue AND h.job_type = s.job_type
        ORDER BY 1, 2
        ON CONFLICT (queue, job_type) DO UPDATE SET
            completed = t.completed + EXCLUDED.completed, failed = t.failed + EXCLUDED.failed,
            dead_lettered = t.dead_lettered + EXCLUDED.dead_lettered,
            lat_buckets = CASE WHEN cardinality(EXCLUDED.lat_buckets) > 0 THEN EXCLUDED.lat_buckets ELSE t.lat_buckets END,
            lat_cums = CASE WHEN cardinality(EXCLUDED.lat_buckets) > 0 THEN EXCLUDED.lat_cums ELSE t.lat_cums END
        RETURNING 1
    )
    INSERT INTO queue_latency_minute AS t (queue, minute, bucket, count)
    SELECT d.queue, d.minute, u.bucket, sum(u.n)
    FROM d, unnest(d.lat_buckets, d.lat_counts) AS u(bucket, n)
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (queue, minute, bucket) DO UPDATE SET count = t.count + EXCLUDED.count;

    WITH d AS (DELETE FROM queue_error_deltas RETURNING *),
    latest AS (
        INSERT INTO queue_error_latest AS t (queue, error_type, fingerprint, last_seen, sample_message)
        SELECT DISTINCT ON (queue, error_type, fingerprint) queue, error_type, fingerprint, last_seen, sample_message
        FROM d ORDER BY queue, error_type, fingerprint, last_seen DESC
        ON CONFLICT (queue, error_type, fingerprint) DO UPDATE SET last_seen = EXCLUDED.last_seen, sample_message = EXCLUDED.sample_message
        WHERE EXCLUDED.last_seen >= t.last_seen
        RETURNING 1
    )
    INSERT INTO queue_errors_hour AS t (queue, hour, error_type, fingerprint, count, last_seen, sample_message)
    SELECT queue, hour, error_type, fingerprint, sum(count), max(last_seen),
           (array_agg(sample_message ORDER BY last_seen DESC))[1]
    FROM d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (queue, hour, error_type, fingerprint) DO UPDATE SET
        count = t.count + EXCLUDED.count,
        last_seen = greatest(t.last_seen, EXCLUDED.last_seen),
        sample_message = CASE WHEN EXCLUDED.last_seen >= t.last_seen THEN EXCLUDED.sample_message
                              ELSE t.sample_message END;

    IF (SELECT last_pruned_at < now() - interval '10 minutes' FROM health_settings) THEN
        PERFORM health_prune();
    END IF;
    RETURN true;
END $$;

-- Recomputes counters exactly, and the rollups of the retention window as far as raw rows still
-- show them (a job keeps only its last error, so earlier failed attempts of retried jobs and
-- pruned jobs are not recoverable). Run once when the health tables were created, and by hand
-- after bulk loads done with triggers disabled (session_replication_role = replica). Blocks
-- job_queue writers while it runs. With rollups => false it recomputes the counters only and
-- keeps the rollups.
create or replace function health_rebuild(rollups boolean DEFAULT true) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    since timestamptz;
BEGIN
    LOCK TABLE job_queue IN SHARE MODE;
    PERFORM pg_advisory_xact_lock(hashtext('queuetop.health_fold'));
    SELECT now() - retention INTO since FROM health_settings;
    DELETE FROM queue_count_deltas; DELETE FROM queue_counts;
    INSERT INTO queue_counts (queue, status, n)
    SELECT queue, status, count(*) FROM job_queue GROUP BY 1, 2;
    IF NOT rollups THEN
        RETURN;
    END IF;

    DELETE FROM queue_event_deltas; DELETE FROM queue_error_deltas;
    DELETE FROM queue_stats_minute; DELETE FROM queue_stats_hour;
    DELETE FROM queue_latency_minute; DELETE FROM queue_errors_hour;
    DELETE FROM queue_latency_recent; DELETE FROM queue_error_latest;
    DELETE FROM queue_type_minute;
    DELETE FROM queue_type_recent;

    INSERT INTO queue_stats_minute (queue, minute, completed, failed, dead_lettered, ms_count, sum_ms, max_ms, arrived)
    SELECT queue, minute, sum(c), sum(f), sum(d), sum(mc), sum(ms), max(mx), sum(a)
    FROM (SELECT queue, date_trunc('minute', completed_at) AS minute, 1 AS c, 0 AS f, 0 AS d,
                 (processing_time_ms IS NOT NULL)::int AS mc, coalesce(greatest(processing_time_ms, 0), 0) AS ms,
                 greatest(processing_time_ms, 0) AS mx, 0 AS a
          FROM job_queue WHERE status = 'completed' AND completed_at >= since
          UNION ALL
          SELECT queue, date_trunc('minute', last_error_at), 0, 1, (status = 'dead_letter')::int, 0, 0, NULL, 0
          FROM job_queue WHERE last_error_at >= since
          UNION ALL
          SELECT queue, date_trunc('minute', created_at), 0, 0, 0, 0, 0, NULL, 1
          FROM job_queue WHERE created_at >= since) x
    GROUP BY 1, 2;

    INSERT INTO queue_stats_hour (queue, hour, completed, failed, dead_lettered, ms_count, sum_ms, max_ms, arrived)
    SELECT queue, date_trunc('hour', minute, 'UTC'), sum(completed), sum(failed), sum(dead_lettered),
           sum(ms_count), sum(sum_ms), max(max_ms), sum(arrived)
    FROM queue_stats_minute GROUP BY 1, 2;

    INSERT INTO queue_latency_minute (queue, minute, bucket, count)
    SELECT queue, date_trunc('minute', completed_at), health_bucket(greatest(processing_time_ms, 0)), count(*)
    FROM job_queue
    WHERE status = 'completed' AND completed_at >= since AND processing_time_ms IS NOT NULL
    GROUP BY 1, 2, 3;

    INSERT INTO queue_errors_hour (queue, hour, error_type, fingerprint, count, last_seen, sample_message)
    SELECT queue, date_trunc('hour', last_error_at, 'UTC'), coalesce(error_type, 'unknown'),
           coalesce(error_fingerprint, error_fingerprint(error_type, error_message)), count(*),
           max(last_error_at), (array_agg(error_message ORDER BY last_error_at DESC))[1]
    FROM job_queue WHERE last_error_at >= since
    GROUP BY 1, 2, 3, 4;

    INSERT INTO queue_error_latest (queue, error_type, fingerprint, last_seen, sample_message)
    SELECT DISTINCT ON (queue, error_type, fingerprint) queue, error_type, fingerprint, last_seen, sample_message
    FROM queue_errors_hour ORDER BY queue, error_type, fingerprint, last_seen DESC;

    UPDATE health_settings SET window_start = date_trunc('minute', now()) - interval '59 minutes';
    INSERT INTO queue_latency_recent (queue, bucket, count)
    SELECT queue, bucket, sum(count) FROM queue_latency_minute
    WHERE minute >= date_trunc('minute', now()) - interval '59 minutes'
    GROUP BY 1, 2;

    -- Per type, the rolling hour only (all the fold keeps), with the fold's cap: each queue's
    -- type_cap busiest types by name, the rest as '' ("other").
    WITH raw AS (
        SELECT queue, date_trunc('minute', completed_at) AS minute, job_type, 1 AS c, 0 AS f, 0 AS dl,
               health_bucket(greatest(processing_time_ms, 0)) AS bucket
        FROM job_queue WHERE status = 'completed' AND completed_at >= date_trunc('minute', now()) - interval '59 minutes'
        UNION ALL
        SELECT queue, date_trunc('minute', last_error_at), job_type, 0, 1, (status = 'dead_letter')::int, NULL
        FROM job_queue WHERE last_error_at >= date_trunc('minute', now()) - interval '59 minutes'
    ), ranked AS (
        SELECT queue, job_type, row_number() OVER (PARTITION BY queue ORDER BY count(*) DESC, job_type) AS rn
        FROM raw GROUP BY 1, 2
    ), typed AS (
        SELECT r.queue, r.minute, CASE WHEN k.rn <= s.type_cap THEN r.job_type ELSE '' END AS job_type,
               r.c, r.f, r.dl, r.bucket
        FROM raw r JOIN ranked k USING (queue, job_type) CROSS JOIN health_settings s
    ), by_minute AS (
        INSERT INTO queue_type_minute (queue, minute, job_type, completed, failed, dead_lettered, lat_buckets, lat_counts)
        SELECT t.queue, t.minute, t.job_type, sum(t.c), sum(t.f), sum(t.dl), coalesce(h.buckets, '{}'), coalesce(h.counts, '{}')
        FROM typed t
        LEFT JOIN (SELECT queue, minute, job_type, array_agg(bucket ORDER BY bucket) AS buckets,
                          array_agg(n ORDER BY bucket) AS counts
                   FROM (SELECT queue, minute, job_type, bucket, count(*)::int AS n FROM typed
                         WHERE bucket IS NOT NULL GROUP BY 1, 2, 3, 4) b
                   GROUP BY 1, 2, 3) h ON h.queue = t.queue AND h.minute = t.minute AND h.job_type = t.job_type
        GROUP BY t.queue, t.minute, t.job_type, h.buckets, h.counts
        RETURNING 1
    ), hist AS (
        SELECT h.queue, h.job_type, array_agg(h.bucket ORDER BY h.bucket) AS buckets, array_agg(h.cum ORDER BY h.bucket) AS cums
        FROM (SELECT queue, job_type, bucket,
                     sum(count(*)) OVER (PARTITION BY queue, job_type ORDER BY bucket)::bigint AS cum
              FROM typed WHERE bucket IS NOT NULL GROUP BY 1, 2, 3) h
        GROUP BY 1, 2
    )
    INSERT INTO queue_type_recent (queue, job_type, completed, failed, dead_lettered, lat_buckets, lat_cums)
    SELECT t.queue, t.job_type, sum(t.c), sum(t.f), sum(t.dl), coalesce(h.buckets, '{}'), coalesce(h.cums, '{}')
    FROM typed t LEFT JOIN hist h ON h.queue = t.queue AND h.job_type = t.job_type
    GROUP BY t.queue, t.job_type, h.buckets, h.cums;
END $$;

-- =============================================================================================
-- Read path: folded rows + unfolded deltas, so every view is exact whether or not a fold ran

-- Counts per queue and status. Exact (counters, not estimates).
create or replace view queue_status_counts AS
SELECT queue, status, sum(n)::bigint AS n
FROM (SELECT queue, status, n FROM queue_counts
      UNION ALL SELECT queue, status, delta FROM queue_count_deltas) x
GROUP BY queue, status;

-- Every retained minute. Quals on queue and minute reach both branches (grouping columns).
-- arrived (jobs inserted, 0017) comes last: a view can only gain columns at its end.
create or replace view queue_stats_minutely AS
SELECT queue, minute, sum(completed)::bigint AS completed, sum(failed)::bigint AS failed,
       sum(dead_lettered)::bigint AS dead_lettered, sum(ms_count)::bigint AS ms_count,
       sum(sum_ms)::bigint AS sum_ms, max(max_ms) AS max_ms, sum(arrived)::bigint AS arrived
FROM (SELECT queue, minute, completed, failed, dead_lettered, ms_count, sum_ms, max_ms, arrived FROM queue_stats_minute
      UNION ALL
      SELECT queue, minute, completed, failed, dead_lettered, ms_count, sum_ms, max_ms, arrived FROM queue_event_deltas) x
GROUP BY queue, minute;

-- Every retained UTC hour.
create or replace view queue_stats_hourly AS
SELECT queue, hour, sum(completed)::bigint AS completed, sum(failed)::bigint AS failed,
       sum(dead_lettered)::bigint AS dead_lettered, sum(ms_count)::bigint AS ms_count,
       sum(sum_ms)::bigint AS sum_ms, max(max_ms) AS max_ms, sum(arrived)::bigint AS arrived
FROM (SELECT queue, hour, completed, failed, dead_lettered, ms_count, sum_ms, max_ms, arrived FROM queue_stats_hour
      UNION ALL
      SELECT queue, date_trunc('hour', minute, 'UTC'), completed, failed, dead_lettered, ms_count, sum_ms, max_ms, arrived
      FROM queue_event_deltas) x
GROUP BY queue, hour;

create or replace view queue_latency_histogram AS
SELECT queue, minute, bucket, sum(count)::bigint AS count
FROM (SELECT queue, minute, bucket, count FROM queue_latency_minute
      UNION ALL
      SELECT d.queue, d.minute, u.bucket, u.n FROM queue_event_deltas d, unnest(d.lat_buckets, d.lat_counts) AS u(bucket, n)) x
GROUP BY queue, minute, bucket;

create or replace view queue_errors_hourly AS
SELECT queue, hour, error_type, sum(count)::bigint AS count, max(last_seen) AS last_seen,
       (array_agg(sample_message ORDER BY last_seen DESC))[1] AS sample_message
FROM (SELECT queue, hour, error_type, count, last_seen, sample_message FROM queue_errors_hour
      UNION ALL
      SELECT queue, hour, error_type, count, last_seen, sample_message FROM queue_error_deltas) x
GROUP BY queue, hour, error_type;

-- Completed and failed per UTC hour over the last 24 h (the current hour and the 23 before).
create or replace view queue_throughput_hourly AS
SELECT queue, hour, completed, failed, dead_lettered
FROM queue_stats_hourly
WHERE hour >= date_trunc('hour', now(), 'UTC') - interval '23 hours';

-- Error groups over the last 24 h, one row per (queue, type, fingerprint): count, last seen,
-- the most recent message, and the normalised pattern (docs/TRIAGE.md). Named for the error
-- types it listed before 0025; a type now has one row per pattern.
-- The sample is the newest message: from the unfolded deltas when they hold a newer one, else
-- queue_error_latest (kept by the fold). Each table is read once; nothing sorts hour rows. The
-- pattern is error_groups' (stored once per group when it first failed); only rows without a
-- group (fingerprint '' from before 0025, or failures recorded outside _fail_jobs) normalise
-- their sample here.
create or replace view queue_error_types AS
SELECT e.queue, e.error_type, e.count, e.last_seen, s.sample_message,
       nullif(e.fingerprint, '') AS fingerprint,
       coalesce(g.pattern, error_pattern(s.sample_message)) AS pattern
FROM (SELECT queue, error_type, fingerprint, sum(count)::bigint AS count, max(last_seen) AS last_seen
      FROM (SELECT queue, error_type, fingerprint, count, last_seen FROM queue_errors_hour
            WHERE hour >= date_trunc('hour', now(), 'UTC') - interval '23 hours'
            UNION ALL
            SELECT queue, error_type, fingerprint, count, last_seen FROM queue_error_deltas
            WHERE hour >= date_trunc('hour', now(), 'UTC') - interval '23 hours') x
      GROUP BY queue, error_type, fingerprint) e
LEFT JOIN queue_error_latest l
       ON l.queue = e.queue AND l.error_type = e.error_type AND l.fingerprint = e.fingerprint
LEFT JOIN (SELECT DISTINCT ON (queue, error_type, fingerprint) queue, error_type, fingerprint, last_seen, sample_message
           FROM queue_error_deltas ORDER BY queue, error_type, fingerprint, last_seen DESC) d
       ON d.queue = e.queue AND d.error_type = e.error_type AND d.fingerprint = e.fingerprint
CROSS JOIN LATERAL (SELECT CASE WHEN d.last_seen >= l.last_seen OR l.last_seen IS NULL THEN d.sample_message
                                ELSE l.sample_message END AS sample_message) s
LEFT JOIN error_groups g ON g.queue = e.queue AND g.fingerprint = e.fingerprint;

-- percentile_cont's rule on a histogram: rank k = p * (total - 1) (0-based), interpolated
-- between the values at ranks floor(k) and ceil(k). lo and hi are those values (the bucket
-- values holding those ranks), so the estimate is within health_latency_relative_error()
-- (4.881 %) of percentile_cont over the raw samples.
create or replace function health_interpolate(lo float8, hi float8, k float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lo + (k - floor(k)) * (hi - lo) $$;

-- Latency and per-type figures of every queue (or only `only_queue`) since `since`, in ONE
-- set-based statement: the snapshot's refresh cost is one plan and one pass over the rollups,
-- not a function call (and a re-planned SQL body) per queue and type. One row per queue with
-- rank 0 (the whole queue: last-hour counts and exact samples, avg and max; p50/p95/p99 capped
-- at the exact max), then, when top > 0, one row per type of its `top` busiest by completed +
-- failed (ranks 1..top, by volume then name), then one "other" row (rank top + 1, job_type
-- NULL) for the rest: the types past the top and those folded as '' because the queue already
-- tracked health_settings.type_cap of them, when they completed or failed anything.
--
-- Every figure reads folded rows plus unfolded deltas in the same statement, so it is exact
-- folded or not. Usually (the snapshot folded just before) `since` is the rolling window and
-- the *_recent rows serve; otherwise (another window, or a read-only transaction that could
-- not fold) the minute rows do: `current` is a plan-time constant, so the branch not taken is
-- a one-time filter and costs nothing. An unfolded delta of a type the queue does not track
-- yet counts as other (only a read-only reader sees one, for the seconds until the next fold).
-- With top = 0 it reads no per-type table at all: every per-type branch below is gated by
-- `top > 0`, a one-time filter, so its scans never start. That is what the overview refresh
-- (queue_health_snapshot(false)) and the latency views call.
--
-- Histograms: a queue's ~100 rolling rows, and one queue_type_recent row per top type, whose
-- arrays hold its histogram already cumulative (0029): its percentiles are binary searches, no
-- bucket row is read, sorted or summed for it (before 0029: ~80 rows per type through the
-- primary key, then the window pass; the refresh was ~1.5x its cost without per-type figures).
-- The other row's histogram is the queue's minus its top types', so it costs the same however
-- many types hide in it; it is the one per-type cost left (top x buckets array elements).
-- Percentiles: one window pass (cumulative count per histogram, buckets ascending) for the
-- queue and other rows; bucket values grow with the bucket, so the value at 0-based rank r is
-- the smallest value whose cumulative count exceeds r.
-- PL/pgSQL for its plan cache (a SQL function's body is planned on every call), and a generic
-- plan from the first call: planning this statement costs about as much as running it, and
-- PL/pgSQL would otherwise plan it afresh for each of a session's first 5 calls. The generic
-- plan is the custom one: `current` and `top` gate branches by one-time filters.
create or replace function health_breakdown(since timestamptz, top int DEFAULT 10, only_queue text DEFAULT NULL)
RETURNS TABLE (queue text, rank int, job_type text, completed bigint, failed bigint, dead_lettered bigint,
               samples bigint, p50 float8, p95 float8, p99 float8, avg_ms float8, max_ms int)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    current boolean;
    lo text;
    hi text;
BEGIN
    SELECT s.window_start = since INTO current FROM health_settings s;
    -- The queues read, as a range of names: every rollup read below is `queue BETWEEN lo AND
    -- hi`, which the one generic plan serves through each table's (queue, ...) key, so one
    -- queue's read (queue detail, health_queue_types) touches that queue's rows only. An
    -- `only_queue IS NULL OR queue = only_queue` filter could only be a scan of every queue's.
    SELECT min(q.name), max(q.name) INTO lo, hi FROM queues q WHERE only_queue IS NULL OR q.name = only_queue;
    RETURN QUERY
    -- Each histogram has an integer id, so the window sorts and groups integers, not names:
    -- a queue's is its base (its position by name x (top + 2)), a top type's base + rank, the
    -- other row's base + top + 1.
    WITH qs AS (
        SELECT q.name AS queue, row_number() OVER (ORDER BY q.name) * (top + 2) AS base
        FROM queues q WHERE only_queue IS NULL OR q.name = only_queue
    ), stats AS (
        SELECT s.queue, sum(s.completed)::bigint AS c, sum(s.failed)::bigint AS f, sum(s.dead_lettered)::bigint AS dl,
               sum(s.ms_count)::bigint AS samples, sum(s.sum_ms)::float8 / nullif(sum(s.ms_count), 0) AS avg_ms,
               max(s.max_ms) AS max_ms
        FROM queue_stats_minutely s
        WHERE s.minute >= since AND s.queue BETWEEN lo AND hi
        GROUP BY 1
    ), queue_hist AS (
        -- Summed per queue first, then given its id: joined before the sum, the planner (which
        -- expects one queue row) rescanned the rolling rows once per queue.
        SELECT qs.base, g.bucket, g.n
        FROM (SELECT x.queue, x.bucket, sum(x.n)::bigint AS n
              FROM (SELECT r.queue, r.bucket, r.count AS n FROM queue_latency_recent r
                    WHERE current AND r.queue BETWEEN lo AND hi
                    UNION ALL
                    SELECT l.queue, l.bucket, l.count FROM queue_latency_minute l
                    WHERE NOT current AND l.minute >= since AND l.queue BETWEEN lo AND hi
                    UNION ALL
                    SELECT d.queue, u.bucket, u.n FROM queue_event_deltas d, unnest(d.lat_buckets, d.lat_counts) AS u(bucket, n)
                    WHERE d.minute >= since AND d.queue BETWEEN lo AND hi) x
              GROUP BY 1, 2) g
        JOIN qs ON qs.queue = g.queue
    ), totals AS (
        SELECT x.queue, x.job_type, sum(x.c)::bigint AS c, sum(x.f)::bigint AS f, sum(x.dl)::bigint AS dl
        FROM (SELECT t.queue, t.job_type, t.completed AS c, t.failed AS f, t.dead_lettered AS dl FROM queue_type_recent t
              WHERE top > 0 AND current AND t.queue BETWEEN lo AND hi
              UNION ALL
              SELECT t.queue, t.job_type, t.completed, t.failed, t.dead_lettered FROM queue_type_minute t
              WHERE top > 0 AND NOT current AND t.minute >= since AND t.queue BETWEEN lo AND hi
              UNION ALL
              SELECT d.queue, CASE WHEN EXISTS (SELECT 1 FROM queue_type_recent r WHERE r.queue = d.queue AND r.job_type = d.job_type)
                                   THEN d.job_type ELSE '' END,
                     d.completed, d.failed, d.dead_lettered
              FROM queue_event_deltas d
              WHERE top > 0 AND d.minute >= since AND d.job_type IS NOT NULL
                AND d.queue BETWEEN lo AND hi) x
        GROUP BY 1, 2
    ), top_types AS (
        SELECT y.queue, y.job_type, y.c, y.f, y.dl, y.rank, qs.base
        FROM (SELECT t.*, row_number() OVER (PARTITION BY t.queue ORDER BY t.c + t.f DESC, t.job_type)::int AS rank
              FROM totals t WHERE t.job_type <> '') y
        JOIN qs ON qs.queue = y.queue
        WHERE y.rank <= top
    ), type_extra AS (
        -- Histogram rows of the top types that their stored arrays do not hold: the minute rows
        -- when `since` is not the rolling window, and unfolded deltas (usually none: the
        -- snapshot folded just before).
        SELECT t.queue, t.job_type, u.bucket, u.n::bigint AS n
        FROM top_types t JOIN queue_type_minute l ON l.queue = t.queue AND l.job_type = t.job_type
             CROSS JOIN LATERAL unnest(l.lat_buckets, l.lat_counts) AS u(bucket, n)
        WHERE top > 0 AND NOT current AND l.minute >= since
        UNION ALL
        SELECT t.queue, t.job_type, u.bucket, u.n
        FROM top_types t JOIN queue_event_deltas d ON d.queue = t.queue AND d.job_type = t.job_type
             CROSS JOIN LATERAL unnest(d.lat_buckets, d.lat_counts) AS u(bucket, n)
        WHERE top > 0 AND d.minute >= since
    ), type_merged AS (
        -- The top types that have such rows: stored histogram (when current) plus those rows,
        -- cumulated again.
        SELECT k.queue, k.job_type, array_agg(k.bucket ORDER BY k.bucket) AS buckets,
               array_agg(k.cum ORDER BY k.bucket) AS cums
        FROM (SELECT x.queue, x.job_type, x.bucket,
                     sum(sum(x.n)) OVER (PARTITION BY x.queue, x.job_type ORDER BY x.bucket)::bigint AS cum
              FROM (SELECT e.queue, e.job_type, e.bucket, e.n::bigint AS n FROM type_extra e
                    UNION ALL
                    SELECT r.queue, r.job_type, h.bucket, h.n
                    FROM queue_type_recent r
                    JOIN (SELECT DISTINCT e.queue, e.job_type FROM type_extra e) e
                      ON e.queue = r.queue AND e.job_type = r.job_type
                    CROSS JOIN LATERAL health_hist_counts(r.lat_buckets, r.lat_cums) h
                    WHERE top > 0 AND current AND r.queue BETWEEN lo AND hi) x
              GROUP BY 1, 2, 3
              HAVING sum(x.n) > 0) k
        GROUP BY 1, 2
    ), type_arr AS (
        -- Each top type's cumulative histogram: one row, no bucket rows to read or sum.
        SELECT t.base, t.base + t.rank AS id,
               coalesce(m.buckets, r.lat_buckets, '{}') AS buckets, coalesce(m.cums, r.lat_cums, '{}') AS cums
        FROM top_types t
        LEFT JOIN queue_type_recent r ON current AND r.queue = t.queue AND r.job_type = t.job_type
        LEFT JOIN type_merged m ON m.queue = t.queue AND m.job_type = t.job_type
        WHERE top > 0
    ), type_hist AS (
        -- The top types' samples per queue and bucket: what the other row does not hold.
        SELECT a.base, h.bucket, sum(h.n::float8)::bigint AS n
        FROM type_arr a CROSS JOIN LATERAL health_hist_counts(a.buckets, a.cums) h
        WHERE top > 0
        GROUP BY 1, 2
    ), hist AS (
        SELECT h.base AS id, h.bucket, h.n FROM queue_hist h
        UNION ALL
        -- Clamped: a delta committed between two reads must not make a bucket negative.
        SELECT h.base + top + 1, h.bucket, greatest(h.n - coalesce(t.n, 0), 0)
        FROM queue_hist h
        LEFT JOIN type_hist t ON t.base = h.base AND t.bucket = h.bucket
        WHERE top > 0
    ), ranked AS (
        -- The queue's and the other row's histograms as two arrays in bucket order: its buckets,
        -- and the cumulative count up to each. One sort of integers, one window pass; float8
        -- sums (exact below 2^53) because sum(bigint) accumulates in numeric, several times
        -- slower. The top types' arrays are stored that way already.
        SELECT c.id, array_agg(c.bucket) AS buckets, array_agg(c.cum) AS cums
        FROM (SELECT h.id, h.bucket, sum(h.n::float8) OVER (PARTITION BY h.id ORDER BY h.bucket) AS cum
              FROM hist h WHERE h.n > 0 ORDER BY h.id, h.bucket) c
        GROUP BY c.id
        UNION ALL
        SELECT a.id, a.buckets, a.cums::float8[] FROM type_arr a WHERE cardinality(a.cums) > 0
    ), pct AS (
        -- percentile_cont's rule: rank k = p * (total - 1), between the values at ranks floor(k)
        -- and ceil(k). The value at rank r is the first bucket whose cumulative count exceeds r:
        -- width_bucket(r, cums) counts those that do not (a binary search).
        SELECT a.id, a.total,
               health_interpolate(health_bucket_value(a.buckets[width_bucket(floor(k.p50), a.cums) + 1]),
                                  health_bucket_value(a.buckets[width_bucket(ceil(k.p50), a.cums) + 1]), k.p50) AS p50,
               health_interpolate(health_bucket_value(a.buckets[width_bucket(floor(k.p95), a.cums) + 1]),
                                  health_bucket_value(a.buckets[width_bucket(ceil(k.p95), a.cums) + 1]), k.p95) AS p95,
               health_interpolate(health_bucket_value(a.buckets[width_bucket(floor(k.p99), a.cums) + 1]),
                                  health_bucket_value(a.buckets[width_bucket(ceil(k.p99), a.cums) + 1]), k.p99) AS p99
        FROM (SELECT r.id, r.buckets, r.cums, r.cums[cardinality(r.cums)]::bigint AS total FROM ranked r) a
        CROSS JOIN LATERAL (SELECT 0.50::float8 * (a.total - 1) AS p50, 0.95::float8 * (a.total - 1) AS p95,
                                   0.99::float8 * (a.total - 1) AS p99) k
    )
    -- The whole queue: every queue, figures or not; percentiles only with samples.
    SELECT qs.queue, 0, NULL::text, coalesce(s.c, 0), coalesce(s.f, 0), coalesce(s.dl, 0), coalesce(s.samples, 0),
           CASE WHEN s.samples > 0 THEN least(p.p50, s.max_ms::float8) END,
           CASE WHEN s.samples > 0 THEN least(p.p95, s.max_ms::float8) END,
           CASE WHEN s.samples > 0 THEN least(p.p99, s.max_ms::float8) END,
           CASE WHEN s.samples > 0 THEN s.avg_ms END, CASE WHEN s.samples > 0 THEN s.max_ms END
    FROM qs
    LEFT JOIN stats s ON s.queue = qs.queue
    LEFT JOIN pct p ON p.id = qs.base
    UNION ALL
    SELECT t.queue, t.rank, t.job_type, t.c, t.f, t.dl, coalesce(p.total, 0), p.p50, p.p95, p.p99, NULL, NULL
    FROM top_types t LEFT JOIN pct p ON p.id = t.base + t.rank
    UNION ALL
    SELECT qs.queue, top + 1, NULL, o.c, o.f, o.dl, coalesce(p.total, 0), p.p50, p.p95, p.p99, NULL, NULL
    FROM (SELECT t.queue, sum(t.c)::bigint AS c, sum(t.f)::bigint AS f, sum(t.dl)::bigint AS dl
          FROM totals t
          WHERE NOT EXISTS (SELECT 1 FROM top_types y WHERE y.queue = t.queue AND y.job_type = t.job_type)
          GROUP BY 1) o
    JOIN qs ON qs.queue = o.queue
    LEFT JOIN pct p ON p.id = qs.base + top + 1
    WHERE o.c + o.f > 0;
END $$;

-- Processing time of one queue's jobs completed since `since` (health_breakdown's rank 0).
-- p50/p95/p99 are within health_latency_relative_error() (4.881 %) of percentile_cont over the
-- raw rows; avg, max and samples are exact.
create or replace function health_latency(q text, since timestamptz,
                                          OUT p50 float8, OUT p95 float8, OUT p99 float8,
                                          OUT avg_ms float8, OUT max_ms int, OUT samples bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT b.p50, b.p95, b.p99, b.avg_ms, b.max_ms, b.samples INTO p50, p95, p99, avg_ms, max_ms, samples
    FROM health_breakdown(since, 0, q) b WHERE b.rank = 0;
    samples := coalesce(samples, 0);
END $$;

-- The drain forecast (docs/HEALTH.md, "Drain forecast"): the backlog (pending + processing)
-- against the net rate over the window, departures (completions and dead-letterings) minus
-- arrivals (jobs inserted). States: no_backlog, idle (nothing arrived or left in the window),
-- growing (more arrived than left), steady (as many), clears (clears_in_minutes at that rate).
create or replace function health_forecast(backlog bigint, arrived bigint, departed bigint, window_s float8)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'state', CASE WHEN backlog <= 0 THEN 'no_backlog'
                      WHEN arrived = 0 AND departed = 0 THEN 'idle'
                      WHEN departed > arrived THEN 'clears'
                      WHEN departed = arrived THEN 'steady'
                      ELSE 'growing' END,
        'backlog', backlog, 'arrived', arrived, 'departed', departed,
        'window_s', round(window_s::numeric),
        'net_per_min', round(((departed - arrived) * 60 / window_s)::numeric, 2),
        'clears_in_minutes', CASE WHEN backlog > 0 AND departed > arrived
                                  THEN ceil(backlog * window_s / 60 / (departed - arrived))::bigint END)
$$;

-- Processing time over the last hour (the current minute and the 59 before it).
create or replace view queue_latency AS
SELECT l.queue, l.p50, l.p95, l.p99, l.avg_ms, l.max_ms, l.samples,
       health_latency_relative_error() AS relative_error,
       true AS percentiles_are_estimates
FROM health_breakdown(date_trunc('minute', now()) - interval '59 minutes', 0) l;

-- Seconds the oldest due pending job has waited: min() over job_queue_pending_ready_idx, one
-- index probe however large the table. Scheduled and backing-off jobs are not waiting yet.
create or replace function health_oldest_pending_seconds(q text) RETURNS float8
LANGUAGE sql STABLE AS $$
    SELECT coalesce(extract(epoch FROM now() - min(greatest(run_at, next_retry_at))), 0)::float8
    FROM job_queue
    WHERE queue = q AND status = 'pending' AND greatest(run_at, next_retry_at) <= now()
$$;

-- One row per queue for psql users; the snapshot below carries the same figures and more.
create or replace view queue_health AS
SELECT q.name AS queue, q.paused,
       coalesce(c.pending, 0) AS pending, coalesce(c.processing, 0) AS processing,
       coalesce(c.completed, 0) AS completed, coalesce(c.failed, 0) AS failed,
       coalesce(c.dead_letter, 0) AS dead_letter, coalesce(c.cancelled, 0) AS cancelled,
       round(health_oldest_pending_seconds(q.name)::numeric, 1) AS oldest_pending_seconds,
       coalesce(h.completed, 0) AS completed_last_hour, coalesce(h.failed, 0) AS failed_last_hour,
       round(l.p50::numeric, 1) AS p50_ms, round(l.p95::numeric, 1) AS p95_ms, round(l.p99::numeric, 1) AS p99_ms
FROM queues q
LEFT JOIN LATERAL (
    SELECT sum(n) FILTER (WHERE status = 'pending') AS pending,
           sum(n) FILTER (WHERE status = 'processing') AS processing,
           sum(n) FILTER (WHERE status = 'completed') AS completed,
           sum(n) FILTER (WHERE status = 'failed') AS failed,
           sum(n) FILTER (WHERE status = 'dead_letter') AS dead_letter,
           sum(n) FILTER (WHERE status = 'cancelled') AS cancelled
    FROM queue_status_counts s WHERE s.queue = q.name) c ON true
LEFT JOIN LATERAL (
    SELECT sum(m.completed) AS completed, sum(m.failed) AS failed FROM queue_stats_minutely m
    WHERE m.queue = q.name AND m.minute >= date_trunc('minute', now()) - interval '59 minutes') h ON true
LEFT JOIN health_breakdown(date_trunc('minute', now()) - interval '59 minutes', 0) l ON l.queue = q.name;

-- =============================================================================================
-- The snapshot

-- One per-type entry of the snapshot's `queues[].types` (docs/HEALTH.md, "Per-type figures"),
-- from a health_breakdown row of rank > 0; job_type NULL is the "other" entry. The snapshot and
-- health_queue_types both build their entries here, so the two shapes cannot drift apart.
create or replace function health_type_entry(job_type text, completed bigint, failed bigint, dead_lettered bigint,
                                             p50 float8, p95 float8, p99 float8, samples bigint) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'type', job_type, 'other', job_type IS NULL, 'completed', completed, 'failed', failed,
        'dead_lettered', dead_lettered,
        'fail_rate', CASE WHEN completed + failed > 0 THEN round(failed::numeric / (completed + failed), 4) END,
        'p50', round(p50::numeric, 1), 'p95', round(p95::numeric, 1), 'p99', round(p99::numeric, 1),
        'samples', samples)
$$;

-- One queue's `types` over the rolling hour, exactly as queue_health_snapshot() shows them
-- for it: what queue detail and `queue show` read beside the overview snapshot, so only the
-- open queue's per-type rows are read. NULL for a queue that does not exist. It does not fold:
-- health_breakdown counts unfolded deltas, and the snapshot read with it folds anyway.
create or replace function health_queue_types(q text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM queues WHERE name = q) THEN (
        SELECT coalesce(jsonb_agg(health_type_entry(b.job_type, b.completed, b.failed, b.dead_lettered,
                                                    b.p50, b.p95, b.p99, b.samples) ORDER BY b.rank), '[]')
        FROM health_breakdown(date_trunc('minute', now()) - interval '59 minutes', 10, q) b
        WHERE b.rank > 0) END
$$;

-- The snapshot. Folds first (unless the transaction is read-only, e.g. a hot standby: the
-- reads stay exact without it). Its cost depends on the number of queues, workers and retained
-- rollup rows, never on the number of jobs. The shape is a contract: docs/HEALTH.md. Fields
-- may be added, never renamed.
-- with_types false is the dashboard's per-tick refresh (the overview): the same object
-- without `queues[].types`, and it reads no per-type rollup (health_breakdown with top 0), so
-- the refresh costs what it did before per-type figures existed. Queue detail and `queue
-- show` add health_queue_types(name) for the one queue they show.
create or replace function queue_health_snapshot(with_types boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    t_now     timestamptz := now();
    this_hour timestamptz := date_trunc('hour', now(), 'UTC');
    this_min  timestamptz := date_trunc('minute', now());
    q         record;
    counts    jsonb;
    oldest    float8;
    per_queue jsonb;
    breaker   text;
    rate      float8;
    alerts    jsonb;
    all_alerts jsonb := '[]';
    -- An array, appended in place; jsonb || would copy all the queues so far on every append.
    queues_j  jsonb[] := '{}';
    leads     jsonb := '[]';
BEGIN
    -- Fold only where it can: not read-only (a standby), and not under REPEATABLE READ or
    -- SERIALIZABLE, where deleting deltas another fold already took would be a serialization
    -- error. The reads below are exact either way.
    IF current_setting('transaction_read_only') = 'off'
       AND current_setting('transaction_isolation') = 'read committed' THEN
        PERFORM health_fold();
    END IF;

    -- Latency and per-type figures of every queue in one statement (health_breakdown): the
    -- loop below only looks them up, so no percentile is computed, or planned, per queue.
    -- Without types, top 0: only the rank-0 rows, no per-type table read.
    SELECT coalesce(jsonb_object_agg(x.queue, x.figures), '{}') INTO per_queue
    FROM (SELECT b.queue, jsonb_build_object(
               'latency', (array_agg(jsonb_build_object(
                   'p50', round(b.p50::numeric, 1), 'p95', round(b.p95::numeric, 1), 'p99', round(b.p99::numeric, 1),
                   'avg', round(b.avg_ms::numeric, 1), 'max', b.max_ms, 'samples', b.samples,
                   'relative_error', round(health_latency_relative_error()::numeric, 5),
                   'estimated', jsonb_build_array('p50', 'p95', 'p99'))) FILTER (WHERE b.rank = 0))[1],
               'types', coalesce(jsonb_agg(health_type_entry(b.job_type, b.completed, b.failed, b.dead_lettered,
                                                             b.p50, b.p95, b.p99, b.samples)
                                           ORDER BY b.rank) FILTER (WHERE b.rank > 0), '[]')) AS figures
          FROM health_breakdown(this_min - interval '59 minutes', CASE WHEN with_types THEN 10 ELSE 0 END) b
          GROUP BY b.queue) x;

    -- Every queue's counters, oldest pending job, last-hour sums and breaker in one statement
    -- (planned once per session), so the loop runs no query of its own but the two series.
    -- A queue created since the statement above shows from the next refresh on.
    FOR q IN
        SELECT qu.*, c.counts, health_oldest_pending_seconds(qu.name) AS oldest, per_queue -> qu.name AS figures,
               r.c1h, r.f1h, r.d1h, r.c5m, r.f5m, r.a10m, r.d10m, b.state AS breaker
        FROM queues qu
        CROSS JOIN LATERAL (
            SELECT jsonb_build_object(
                       'pending',     coalesce(sum(n) FILTER (WHERE status = 'pending'), 0),
                       'processing',  coalesce(sum(n) FILTER (WHERE status = 'processing'), 0),
                       'completed',   coalesce(sum(n) FILTER (WHERE status = 'completed'), 0),
                       'failed',      coalesce(sum(n) FILTER (WHERE status = 'failed'), 0),
                       'dead_letter', coalesce(sum(n) FILTER (WHERE status = 'dead_letter'), 0),
                       'cancelled',   coalesce(sum(n) FILTER (WHERE status = 'cancelled'), 0)) AS counts
            FROM queue_status_counts WHERE queue = qu.name) c
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(completed) FILTER (WHERE minute >= this_min - interval '59 minutes'), 0) AS c1h,
                   coalesce(sum(failed) FILTER (WHERE minute >= this_min - interval '59 minutes'), 0) AS f1h,
                   coalesce(sum(dead_lettered) FILTER (WHERE minute >= this_min - interval '59 minutes'), 0) AS d1h,
                   coalesce(sum(completed) FILTER (WHERE minute >= this_min - interval '4 minutes'), 0) AS c5m,
                   coalesce(sum(failed) FILTER (WHERE minute >= this_min - interval '4 minutes'), 0) AS f5m,
                   coalesce(sum(arrived) FILTER (WHERE minute >= this_min - interval '9 minutes'), 0) AS a10m,
                   coalesce(sum(completed + dead_lettered) FILTER (WHERE minute >= this_min - interval '9 minutes'), 0) AS d10m
            FROM queue_stats_minutely
            WHERE queue = qu.name AND minute >= this_min - interval '59 minutes') r
        LEFT JOIN circuit_breakers b ON b.queue = qu.name
        WHERE per_queue ? qu.name
        ORDER BY qu.name
    LOOP
        counts := q.counts;
        oldest := q.oldest;
        breaker := q.breaker;
        rate := CASE WHEN q.c5m + q.f5m > 0 THEN q.f5m::float8 / (q.c5m + q.f5m) END;

        -- Alerts with the queue's own thresholds (queues.*_alert*). The error rate needs at
        -- least 5 finished attempts in the window, so one failure out of one is not an alert.
        alerts := '[]';
        IF (counts ->> 'dead_letter')::bigint > q.dlq_alert_threshold THEN
            alerts := alerts || jsonb_build_object('queue', q.name, 'kind', 'dlq_above_threshold',
                'value', (counts ->> 'dead_letter')::bigint, 'threshold', q.dlq_alert_threshold,
                'message', format('%s: %s jobs in the DLQ (threshold %s)', q.name, counts ->> 'dead_letter', q.dlq_alert_threshold));
        END IF;
        IF oldest > q.oldest_pending_alert_s THEN
            alerts := alerts || jsonb_build_object('queue', q.name, 'kind', 'oldest_pending_too_old',
                'value', floor(oldest), 'threshold', q.oldest_pending_alert_s,
                'message', format('%s: oldest pending job has waited %s s (threshold %s s)', q.name, floor(oldest), q.oldest_pending_alert_s));
        END IF;
        IF rate IS NOT NULL AND q.c5m + q.f5m >= 5 AND rate > q.error_rate_alert THEN
            alerts := alerts || jsonb_build_object('queue', q.name, 'kind', 'error_rate_high',
                'value', round(rate::numeric, 3), 'threshold', q.error_rate_alert,
                'message', format('%s: %s%% of attempts failed in the last 5 min (%s of %s; threshold %s%%)', q.name,
                                  round(rate::numeric * 100, 1), q.f5m, q.c5m + q.f5m, round(q.error_rate_alert * 100, 1)));
        END IF;
        IF breaker = 'open' THEN
            alerts := alerts || jsonb_build_object('queue', q.name, 'kind', 'circuit_open', 'value', NULL, 'threshold', NULL,
                'message', format('%s: circuit breaker is open', q.name));
        END IF;
        all_alerts := all_alerts || alerts;

        queues_j := array_append(queues_j, jsonb_build_object(
            'name', q.name,
            'paused', q.paused,
            'paused_by', q.paused_by,
            'paused_at', health_ts(q.paused_at),
            'settings', jsonb_build_object('concurrency_limit', q.concurrency_limit, 'max_attempts', q.max_attempts,
                'rate_limit_per_s', q.rate_limit_per_s, 'visibility_timeout_s', q.visibility_timeout_s,
                'backoff_base_s', q.backoff_base_s, 'backoff_cap_s', q.backoff_cap_s, 'backoff_schedule_s', q.backoff_schedule_s,
                'dlq_alert_threshold', q.dlq_alert_threshold, 'oldest_pending_alert_s', q.oldest_pending_alert_s,
                'error_rate_alert', q.error_rate_alert),
            'counts', counts,
            'oldest_pending_seconds', floor(oldest)::bigint,
            'last_hour', jsonb_build_object('completed', q.c1h, 'failed', q.f1h, 'dead_lettered', q.d1h),
            'error_rate_5m', round(rate::numeric, 4),
            'circuit', coalesce(breaker, 'closed'),
            'throughput_per_hour', (
                SELECT jsonb_agg(jsonb_build_object('hour', health_ts(g.h), 'completed', coalesce(s.completed, 0),
                                                    'failed', coalesce(s.failed, 0), 'dead_lettered', coalesce(s.dead_lettered, 0))
                                 ORDER BY g.h)
                FROM generate_series(this_hour - interval '23 hours', this_hour, interval '1 hour') AS g(h)
                LEFT JOIN queue_stats_hourly s ON s.queue = q.name AND s.hour = g.h
                                              AND s.hour >= this_hour - interval '23 hours'),
            'throughput_per_minute', (
                SELECT jsonb_agg(jsonb_build_object('minute', health_ts(g.m), 'completed', coalesce(s.completed, 0),
                                                    'failed', coalesce(s.failed, 0))
                                 ORDER BY g.m)
                FROM generate_series(this_min - interval '59 minutes', this_min, interval '1 minute') AS g(m)
                LEFT JOIN queue_stats_minutely s ON s.queue = q.name AND s.minute = g.m
                                                AND s.minute >= this_min - interval '59 minutes'),
            'latency_ms', q.figures -> 'latency',
            -- Absent without types (dropped below), not an empty list: none were read.
            'types', q.figures -> 'types',
            -- The current minute and the 9 before it, as far as it has gone: 540 to 600 s.
            'forecast', health_forecast((counts ->> 'pending')::bigint + (counts ->> 'processing')::bigint,
                                        q.a10m::bigint, q.d10m::bigint,
                                        extract(epoch FROM t_now - (this_min - interval '9 minutes'))::float8),
            'alerts', alerts) - CASE WHEN with_types THEN '' ELSE 'types' END);
    END LOOP;

    -- A worker silent for worker_silence_limit() and not yet declared dead: worker_registry
    -- calls it 'lost'. The alert lasts until rescue_stale_jobs (run by every live worker every
    -- 10 s) has handed its jobs back and marked it 'dead', so it stays up only while nobody is
    -- there to do that (no live worker) or while a job of it still has a fresh lease.
    SELECT all_alerts || coalesce(jsonb_agg(jsonb_build_object('queue', NULL, 'kind', 'worker_silent',
               'value', floor(extract(epoch FROM t_now - w.last_seen)), 'threshold', extract(epoch FROM worker_silence_limit())::int,
               'message', format('worker %s (%s pid %s) silent for %s s', w.id, coalesce(w.host, '?'), coalesce(w.pid::text, '?'),
                                 floor(extract(epoch FROM t_now - w.last_seen))))
               ORDER BY w.id), '[]')
      INTO all_alerts
      FROM worker_registry w WHERE w.status = 'lost';

    -- 0002's view; static SQL (planned once per session), reached only when the view exists.
    IF to_regclass('lead_migration_progress') IS NOT NULL THEN
        -- Active runs, plus those that finished in the last hour so the operator sees the outcome.
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'operation_id', operation_id, 'run_id', run_id, 'run_name', run_name,
                       'funnel_id', funnel_id, 'column_id', column_id, 'status', status,
                       'moved', moved, 'remaining', remaining, 'total', total, 'batches', batches,
                       'batch_size', batch_size, 'last_batch_count', last_batch_count, 'created_by', created_by,
                       'created_at', health_ts(created_at), 'started_at', health_ts(started_at),
                       'last_batch_at', health_ts(last_batch_at), 'finished_at', health_ts(finished_at),
                       'cancelled_at', health_ts(cancelled_at), 'error', error)
                   ORDER BY created_at DESC), '[]') INTO leads
            FROM (SELECT * FROM lead_migration_progress
                  WHERE status IN ('pending', 'running') OR finished_at > now() - interval '1 hour'
                     OR cancelled_at > now() - interval '1 hour'
                  ORDER BY created_at DESC LIMIT 50) x;
    END IF;

    RETURN jsonb_build_object(
        'generated_at', health_ts(t_now),
        'queues', to_jsonb(queues_j),
        'alerts', all_alerts,
        'error_types', (
            SELECT coalesce(jsonb_agg(jsonb_build_object('queue', queue, 'error_type', error_type, 'count', count,
                                                         'last_seen', health_ts(last_seen), 'sample_message', sample_message,
                                                         'fingerprint', fingerprint, 'pattern', pattern)
                                      ORDER BY count DESC, last_seen DESC), '[]')
            FROM (SELECT * FROM queue_error_types ORDER BY count DESC, last_seen DESC LIMIT 50) e),
        'workers', (
            SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'host', host, 'pid', pid, 'queues', coalesce(to_jsonb(queues), '[]'),
                                                         'concurrency', concurrency, 'in_flight', in_flight, 'buffered', buffered, 'status', status,
                                                         'started_at', health_ts(started_at), 'last_seen', health_ts(last_seen))
                                      ORDER BY host, pid, id), '[]')
            FROM (SELECT * FROM worker_registry WHERE status NOT IN ('stopped', 'dead') OR last_seen > t_now - interval '1 hour'
                  ORDER BY last_seen DESC LIMIT 200) w),
        -- How many workers run: the one count status, the dashboard footer and the workers
        -- screen show (worker_registry's definition of live), over every row, not the 200 above.
        'worker_counts', (
            SELECT jsonb_build_object('live', count(*) FILTER (WHERE live), 'lost', count(*) FILTER (WHERE status = 'lost'))
            FROM worker_registry),
        'circuit_breakers', (
            SELECT coalesce(jsonb_agg(jsonb_build_object('queue', queue, 'state', state, 'consecutive_failures', consecutive_failures,
                                                         'opened_at', health_ts(opened_at), 'reopen_at', health_ts(reopen_at),
                                                         'updated_at', health_ts(updated_at))
                                      ORDER BY queue), '[]')
            FROM circuit_breakers),
        'lead_migrations', leads);
END $$;

-- Everything `queuetop status --json` shows, in one round trip: the snapshot with every
-- queue's per-type figures (queue_health_snapshot(true)). Its shape is the contract.
create or replace function queue_health_snapshot() RETURNS jsonb
LANGUAGE sql AS $$
    SELECT queue_health_snapshot(true)
$$;

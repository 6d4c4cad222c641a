import Foundation
import Postgres
import QueueStore

/// Fills an empty, migrated database with the demo workload's starting state: queue settings,
/// 24 h of history, a DLQ of a few hundred jobs and two lead migrations. Everything goes in
/// through the real tables and triggers (back-dated rows land in the right minute of the health
/// rollups), in one transaction: a failure leaves the database as it was.
struct DemoSeeder {
    let connection: Connection

    enum Outcome {
        case seeded(history: Int, deadLettered: Int, leads: Int)
        /// The demo data is already there (QUEUETOP_DEMO_KEEP=1): nothing was added.
        case alreadySeeded
    }

    func seed() throws -> Outcome {
        let migrated: Bool = try connection.run("""
            SELECT to_regclass(format('%I.job_queue', \(connection.schema)::text)) IS NOT NULL
                   AND to_regclass(format('%I.leads', \(connection.schema)::text)) IS NOT NULL
                   AND to_regprocedure(format('%I.queue_health_snapshot()', \(connection.schema)::text)) IS NOT NULL
                   AND to_regclass(format('%I.timeline_marks', \(connection.schema)::text)) IS NOT NULL
            """).scalar()
        guard migrated else {
            throw CLIError("this database is not migrated (no job_queue, leads, health views or timeline): run `queuetop migrate` first")
        }
        return try connection.transaction { conn in
            // Two seeders at once would both see an empty database; the second waits here.
            try conn.execute("SELECT pg_advisory_xact_lock(hashtext('queuetop demo seed'))")
            if try isSeeded(conn) { return .alreadySeeded }
            try refuseIfInUse(conn)
            try configureQueues(conn)
            var history = 0, deadLettered = 0
            for profile in DemoWorkload.queues {
                history += try backfillHistory(profile, conn)
                try backfillFailedAttempts(profile, conn)
                deadLettered += try seedDeadLetters(profile, conn)
            }
            try seedExpiredCampaignMessages(conn)
            try seedSchedules(conn)
            try seedTimeline(conn)
            let leads = try seedLeadMigrations(conn)
            return .seeded(history: history, deadLettered: deadLettered, leads: leads)
        }
    }

    private func isSeeded(_ conn: Connection) throws -> Bool {
        try conn.run("""
            SELECT EXISTS (SELECT 1 FROM \(qt: "queues") WHERE name = \(DemoWorkload.emails.name))
               AND EXISTS (SELECT 1 FROM \(qt: "extraction_runs") WHERE name = \(DemoWorkload.leadRuns[0].name))
            """).scalar()
    }

    /// The demo writes hundreds of thousands of made-up rows: never into a database in real use.
    private func refuseIfInUse(_ conn: Connection) throws {
        let queues: [String] = try conn.run("SELECT name FROM \(qt: "queues") ORDER BY name LIMIT 5").map { try $0.decode("name") }
        let runs: Int = try conn.run("SELECT count(*)::int FROM (SELECT 1 FROM \(qt: "extraction_runs") LIMIT 1) r").scalar()
        guard queues.isEmpty && runs == 0 else {
            let what = queues.isEmpty ? "extraction runs" : "queues (\(queues.joined(separator: ", ")))"
            throw CLIError("this database already holds \(what); `queuetop demo seed` only fills an empty "
                           + "queuetop database, so it changed nothing. Use a fresh database (scripts/demo makes one).")
        }
    }

    private func configureQueues(_ conn: Connection) throws {
        let store = QueueConfigStore(connection: conn)
        let settings = DemoWorkload.queues.map { ($0.name, $0.settings) }
            + [(DemoWorkload.leadMigrationsQueue, DemoWorkload.leadMigrationsSettings),
               (DemoWorkload.maintenanceQueue, DemoWorkload.maintenanceSettings)]
        for (name, values) in settings {
            try conn.execute("INSERT INTO \(qt: "queues") (name) VALUES (\(name)) ON CONFLICT (name) DO NOTHING")
            try store.update(name, settings: JSONText(values))
        }
    }

    /// Seeds 002/004 skip campaign messages that are too old to send: a few bursts of them in the
    /// last 24 h (the last one 20 minutes ago), each with the audit row the expirer writes, so
    /// queue detail and the audit screen show expiry from the first frame. As the live expirer
    /// writes it: the login role is the actor, the worker's application_name the claim (an actor
    /// of 'queuetop worker', as before 0014, made the audit screen keep a ROLE column for it).
    private func seedExpiredCampaignMessages(_ conn: Connection) throws {
        let queue = DemoWorkload.campaigns.name, type = DemoWorkload.campaigns.jobType
        try conn.execute("""
            WITH bursts AS (
                SELECT b, now() - interval '20 minutes' - (b * 211 % 1380) * interval '1 minute' AS at,
                       8 + (b * 7) % 13 AS n
                  FROM generate_series(0, 5) b
            ), jobs AS (
                INSERT INTO \(qt: "job_queue") (queue, job_type, payload, status, cancel_reason, created_at, run_at,
                                       expires_at, completed_at)
                SELECT \(queue), \(type), jsonb_build_object('campaign_run_id', 'campanha-antiga-' || b, 'lead_id', 'lead-' || k),
                       'cancelled', 'expired', at - interval '70 minutes', at - interval '70 minutes', at - interval '1 second', at
                  FROM bursts, generate_series(1, n) k
                RETURNING id, completed_at
            )
            INSERT INTO \(qt: "audit_log") (at, action, filter, affected, client_label)
            SELECT j.completed_at, 'job.expire', jsonb_build_object('queue', \(queue)::text, 'ids', jsonb_agg(j.id)), count(*),
                   'queuetop worker maintenance'
              FROM jobs j GROUP BY j.completed_at
            """)
    }

    /// 24 h of completions, minute by minute, following a daily curve (trough at 04:00 UTC, peak
    /// at 16:00 UTC, ±20 % noise) between the profile's hourly low and high, with log-normal
    /// processing times of the live workload's median and p99. Returns the rows added.
    ///
    /// The live producer brings several times the curve's rate (DemoProducer.arrivalsPerHour), so
    /// a history that followed the curve up to now made the last hour's charts (TREND, the queue's
    /// per-minute chart) step up the moment the pool started. Instead the history blends from the
    /// curve into the live rate over the 7 h to 1 h before now (a half cosine: no kink at either
    /// end, a swell on the 24 h chart rather than a cliff), and the last hour runs at the live rate: the day keeps its shape, and the first frame
    /// continues into the live one whatever the time of day.
    private func backfillHistory(_ p: DemoQueueProfile, _ conn: Connection) throws -> Int {
        let live = DemoProducer.arrivalsPerHour(p.name) ?? 0
        return try conn.execute("""
            WITH minutes AS (
                SELECT date_trunc('minute', now()) - m * interval '1 minute' AS minute, m / 60.0 AS hours_ago
                  FROM generate_series(0, 1440) m
            ), curve AS (
                SELECT minute,
                       \(p.historyPerHour.low)::float8 + \(p.historyPerHour.high - p.historyPerHour.low)::float8
                         * (0.5 - 0.5 * cos(2 * pi() * (extract(epoch FROM minute) / 3600 - 4) / 24)) AS per_hour,
                       CASE WHEN hours_ago <= 1 THEN 1 WHEN hours_ago >= 7 THEN 0
                            ELSE 0.5 + 0.5 * cos(pi() * (hours_ago - 1) / 6) END AS live_share
                  FROM minutes
            ), counts AS (
                -- The minute the seed runs in counts up to now, so the first live minute has no dip.
                SELECT minute, round(((1 - live_share) * per_hour + live_share * greatest(per_hour, \(live)::float8))
                         / 60.0 * (0.8 + 0.4 * random())
                         * least(1, extract(epoch FROM now() - minute) / 60))::int AS n
                  FROM curve
            ), done AS (
                SELECT c.minute + random() * least(interval '59 seconds', now() - c.minute) AS at,
                       least(600000, greatest(1, round(exp(ln(\(p.latencyP50)::float8) + ln(\(p.latencyP99)::float8 / \(p.latencyP50)::float8) / 2.326
                             * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))))::int AS ms
                  FROM counts c, generate_series(1, c.n) k
            )
            INSERT INTO \(qt: "job_queue") (queue, job_type, payload, status, created_at, run_at, started_at, completed_at, processing_time_ms)
            SELECT \(p.name), \(p.jobType), '{"backfilled": true}', 'completed',
                   at - (ms + 400) * interval '1 ms', at - (ms + 400) * interval '1 ms', at - ms * interval '1 ms', at, ms
              FROM done
            """)
    }

    /// Some of those jobs failed an attempt before they succeeded: recorded by moving their
    /// last_error_at (what fail_job does), so the error-type table and failure counts have 24 h
    /// of history too, in the live mix's proportions.
    private func backfillFailedAttempts(_ p: DemoQueueProfile, _ conn: Connection) throws {
        let retryable = p.errors.filter { $0.type != "invalid_payload" }
        var cumulative: [Double] = [], total = 0.0
        for e in retryable { total += e.probability; cumulative.append(total) }
        try conn.execute("""
            WITH pick AS (
                SELECT j.id, e.type, e.message
                  FROM \(qt: "job_queue") j
                  CROSS JOIN LATERAL (SELECT random() AS r, j.id AS for_id) roll
                  CROSS JOIN LATERAL (
                      SELECT t.type, t.message FROM unnest(\(retryable.map(\.type))::text[], \(retryable.map(\.message))::text[],
                                                           \(cumulative)::float8[]) AS t(type, message, upto)
                       WHERE roll.r < t.upto ORDER BY t.upto LIMIT 1) e
                 WHERE j.queue = \(p.name) AND j.status = 'completed'
            )
            UPDATE \(qt: "job_queue") j
               SET error_type = pick.type, error_message = \(unsafeRaw: Self.expandedSQL("pick.message")),
                   error_details = '{"backfilled": true}', last_error_at = j.started_at - interval '3 seconds'
              FROM pick WHERE j.id = pick.id
            """)
    }

    /// Dead-lettered jobs over the last 24 h (more of them recently), each with its attempt
    /// history, and payloads the live workers can run when an operator requeues them.
    private func seedDeadLetters(_ p: DemoQueueProfile, _ conn: Connection) throws -> Int {
        let maxAttempts = p.maxAttempts
        var added = 0
        for (index, group) in p.dlq.enumerated() {
            let attempts = group.type == "invalid_payload" ? 1 : maxAttempts
            let first = 100_000 * (index + 1)
            try conn.execute("""
                WITH made AS (
                    SELECT n, now() - power(random(), 2) * interval '24 hours' AS failed_at, \(group.message)::text AS template
                      FROM generate_series(\(first)::int, \(first + group.count - 1)::int) n
                ), dead AS (
                    INSERT INTO \(qt: "job_queue") (queue, job_type, payload, status, attempt_count, max_attempts, created_at,
                                           run_at, started_at, error_type, error_message, error_details, last_error_at)
                    SELECT \(p.name), \(p.jobType),
                           (SELECT jsonb_object_agg(f.key, replace(f.value, '{n}', made.n::text))
                              FROM jsonb_each_text(\(JSONText(DemoWorkload.json(p.fields)))::jsonb) f),
                           'dead_letter', \(attempts)::int, \(maxAttempts)::int,
                           failed_at - \(attempts)::int * interval '20 seconds' - interval '5 seconds',
                           failed_at - \(attempts)::int * interval '20 seconds' - interval '5 seconds',
                           failed_at - interval '1 second', \(group.type),
                           \(unsafeRaw: Self.expandedSQL("made.template")),
                           '{"simulated": true}', failed_at
                      FROM made
                    RETURNING id, attempt_count, error_type, error_message, error_details, last_error_at
                )
                INSERT INTO \(qt: "job_attempts") (job_id, attempt, error_type, error_message, error_details, worker, failed_at)
                SELECT d.id, a, d.error_type, d.error_message, d.error_details, 'demo-host:1',
                       d.last_error_at - (d.attempt_count - a) * interval '20 seconds'
                  FROM dead d, generate_series(1, d.attempt_count) a
                """)
            added += group.count
        }
        return added
    }

    /// The seeds' cron jobs (DemoWorkload.schedules), added as an operator would: each is audited.
    private func seedSchedules(_ conn: Connection) throws {
        let store = ScheduleStore(connection: conn)
        for s in DemoWorkload.schedules {
            _ = try store.add(NewSchedule(name: s.name, cron: s.cron, queue: s.queue, jobType: s.jobType, payload: JSONText(s.payload)))
        }
    }

    /// The incident timeline's last day, so the Timeline screen and the chart glyphs have content
    /// from the first frame: two deploy marks (CI's, the second one 55 minutes ago), alerts that
    /// fired and cleared after each, and the operator's answers (a scale-up, a requeue, the scale
    /// back). Back-dated like the rest of the history; the live pool adds what happens next.
    private func seedTimeline(_ conn: Connection) throws {
        try conn.execute("""
            INSERT INTO \(qt: "timeline_marks") (at, kind, label, client_label) VALUES
              (now() - interval '19 hours', 'deploy', 'deploy v41 (api 8d2e0c4)', 'github-actions deploy.yml'),
              (now() - interval '55 minutes', 'deploy', 'deploy v42 (api 3f9c2e1): new AI reply prompt', 'github-actions deploy.yml')
            """)
        try conn.execute("""
            INSERT INTO \(qt: "alert_events") (at, alert_key, kind, queue, event, alert)
            SELECT now() - a.ago, a.kind || ':' || a.queue, a.kind, a.queue, a.event,
                   jsonb_build_object('kind', a.kind, 'queue', a.queue, 'message', a.message)
              FROM (VALUES
                (interval '18 hours 40 minutes', 'circuit_open', \(DemoWorkload.storeSync.name)::text, 'firing',
                 'store_sync: circuit breaker is open (Shopify API answered 403)'),
                (interval '18 hours 25 minutes', 'circuit_open', \(DemoWorkload.storeSync.name)::text, 'cleared',
                 'store_sync: circuit breaker is open (Shopify API answered 403)'),
                (interval '48 minutes', 'error_rate_high', \(DemoWorkload.campaigns.name)::text, 'firing',
                 'campaigns: 31% of jobs failed in the last 5 minutes (threshold 20%)'),
                (interval '31 minutes', 'error_rate_high', \(DemoWorkload.campaigns.name)::text, 'cleared',
                 'campaigns: 31% of jobs failed in the last 5 minutes (threshold 20%)')
              ) a(ago, kind, queue, event, message)
            """)
        try conn.execute("""
            INSERT INTO \(qt: "audit_log") (at, action, filter, affected, client_label)
            SELECT now() - a.ago, a.action, a.filter::jsonb, a.affected, 'queuetop ana@ops-1'
              FROM (VALUES
                (interval '44 minutes', 'queue.scale', '{"queue": "campaigns", "concurrency_limit": 8}', 1),
                (interval '40 minutes', 'dlq.requeue', '{"queue": "campaigns", "error_type": "ai_timeout", "reset_attempts": true}', 37),
                (interval '25 minutes', 'queue.scale', '{"queue": "campaigns", "concurrency_limit": 5}', 1)
              ) a(ago, action, filter, affected)
            """)
    }

    /// `{n:LOW-HIGH}` in a message (SimulateHandler.expand) as SQL: each of the first two becomes
    /// its own random whole number per row, so a seeded free-text family reads like the live one.
    /// `expression` is a column name from this file, never a value.
    static func expandedSQL(_ expression: String) -> String {
        let token = #"'\{n:[0-9]+-[0-9]+\}'"#
        let random = "(10000 + floor(random() * 89999))::int::text"
        return "regexp_replace(regexp_replace(\(expression), \(token), \(random)), \(token), \(random))"
    }

    /// Seed 003's funnel and runs, each queued for migration through queue_lead_migration
    /// (audited, as an operator's would be). Returns the leads created.
    private func seedLeadMigrations(_ conn: Connection) throws -> Int {
        let funnel = try DemoLeads.createFunnel(conn)
        var leads = 0
        for run in DemoWorkload.leadRuns {
            let runID = try DemoLeads.createRun(conn, name: run.name, leads: run.leads)
            _ = try LeadMigrationStore(connection: conn)
                .queue(run: runID, funnel: funnel.id, column: funnel.columns[run.column], batchSize: run.batchSize)
            leads += run.leads
        }
        return leads
    }
}

/// Funnels, runs and leads for the demo's lead migrations; the producer adds runs as it goes.
enum DemoLeads {
    static func createFunnel(_ conn: Connection) throws -> (id: UUID, columns: [UUID]) {
        let funnel: UUID = try conn.run("INSERT INTO \(qt: "funnels") (name) VALUES (\(DemoWorkload.funnelName)) RETURNING id").scalar()
        let columns: [UUID] = try conn.run("""
            INSERT INTO \(qt: "funnel_columns") (funnel_id, name, position)
            SELECT \(funnel), c.name, c.position::int FROM unnest(\(DemoWorkload.columns)::text[]) WITH ORDINALITY AS c(name, position)
            RETURNING id, position
            """).map { (try $0.decode("position", as: Int.self), try $0.decode("id", as: UUID.self)) }
            .sorted { $0.0 < $1.0 }.map(\.1)
        return (funnel, columns)
    }

    /// The demo funnel's columns in order; nil when the funnel is gone.
    static func funnel(_ conn: Connection) throws -> (id: UUID, columns: [UUID])? {
        let rows = try conn.run("""
            SELECT f.id AS funnel, c.id AS column_id FROM \(qt: "funnels") f JOIN \(qt: "funnel_columns") c ON c.funnel_id = f.id
             WHERE f.name = \(DemoWorkload.funnelName) ORDER BY f.created_at, c.position
            """)
        guard let first = rows.first else { return nil }
        let id: UUID = try first.decode("funnel")
        return (id, try rows.filter { try $0.decode("funnel", as: UUID.self) == id }.map { try $0.decode("column_id") })
    }

    static func createRun(_ conn: Connection, name: String, leads: Int) throws -> UUID {
        let run: UUID = try conn.run("INSERT INTO \(qt: "extraction_runs") (name) VALUES (\(name)) RETURNING id").scalar()
        try conn.execute("""
            INSERT INTO \(qt: "leads") (run_id, name, email, phone, data)
            SELECT \(run), 'Lead ' || n, 'lead' || n || '@example.com', '+55 11 9' || lpad((n % 100000000)::text, 8, '0'),
                   jsonb_build_object('source', 'google_maps', 'rating', round((3 + random() * 2)::numeric, 1))
              FROM generate_series(1, \(leads)) n
            """)
        return run
    }
}

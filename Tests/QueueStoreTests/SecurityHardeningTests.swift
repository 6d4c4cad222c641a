import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Issue 16's SQL-layer security fixes, each shown against the real database by connecting as a
/// login member of a queuetop role. The login roles' sessions have `search_path = pg_catalog`
/// (the test database's default), so their SQL names the schema: `queuetop.enqueue_job(…)`.
@Suite struct SecurityHardeningTests {
    /// Runs `sql` and returns the SQLSTATE it failed with (nil when it succeeded) and the message.
    func refusal(_ conn: Connection, _ sql: Query) -> (state: String?, message: String) {
        do {
            _ = try conn.query(sql)
            return (nil, "")
        } catch let error as PostgresError {
            return (error.sqlState ?? "connection", "\(error)")
        } catch {
            return ("\(error)", "\(error)")
        }
    }

    func state(_ conn: Connection, _ sql: Query) -> String? { refusal(conn, sql).state }

    func int(_ conn: Connection, _ sql: Query) throws -> Int { try conn.query(sql).scalar(Int.self) }

    // MARK: 1. requeue_dlq from any search_path

    @Test func requeueDlqProcedureWorksForAnOperatorWhoseSearchPathLacksTheSchema() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let dead = try seedDeadLetters(owner, 3, queue: "emails", type: "smtp_error")
            try db.withLoginRole(in: "queuetop_operator") { config, roleName in
                let op = try Connection.connect(config)
                defer { op.close() }
                #expect(try op.query("SHOW search_path").scalar(String.self) == "pg_catalog")
                try op.executeScript("CALL queuetop.requeue_dlq('emails')")
                #expect(try jobStatuses(owner, dead) == ["pending"])
                #expect(try int(owner, """
                    SELECT affected::int FROM audit_log WHERE action = 'dlq.requeue' AND db_role = \(roleName)
                    """) == 3)
            }
        }
    }

    // MARK: 2. pure helpers

    static let pure = ["uuid_v7", "_uuid_v7_floor", "health_bucket", "health_bucket_value", "backoff_delay_s",
                       "_bucket_level", "health_ts", "health_latency_relative_error", "_audit_ids",
                       "alert_history_retention", "_sane_time", "_redact_userinfo", "worker_silence_limit",
                       "health_forecast", "health_interpolate", "_uuid_or_null", "error_pattern",
                       "health_hist_counts", "health_hist_merge", "health_hist_sum", "health_type_entry",
                       "_id_tail_key"]

    @Test func pureHelpersAreInvokerWithoutSearchPathAndEveryOtherFunctionPinsIt() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let rows = try conn.query("""
                SELECT p.proname::text AS name, p.prosecdef AS definer, p.prokind::text AS kind,
                       coalesce(array_to_string(p.proconfig, ','), '') AS config
                FROM pg_proc p WHERE p.pronamespace = 'queuetop'::regnamespace
                """)
            var seen = Set<String>()
            for row in rows {
                let name: String = try row.decode("name")
                let config: String = try row.decode("config")
                let definer: Bool = try row.decode("definer")
                let kind: String = try row.decode("kind")
                if Self.pure.contains(name) {
                    seen.insert(name)
                    #expect(config.isEmpty && !definer, "\(name): pure helpers are invoker with no SET clause")
                } else if kind == "f" {
                    #expect(config.contains("search_path=queuetop, pg_temp"), "\(name): \(config)")
                }
            }
            #expect(seen == Set(Self.pure))
            // Inlined: the plan of a query calling health_bucket shows its body, not a call.
            let plan: String = try conn.query("""
                EXPLAIN (VERBOSE, COSTS OFF) SELECT queuetop.health_bucket(g) FROM generate_series(1, 3) g
                """).map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
            #expect(!plan.contains("health_bucket"), "\(plan)")
        }
    }

    // MARK: 3. the worker's schedule ticker

    @Test func aWorkerLoginTicksSchedulesWithoutAnyTablePrivilege() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            _ = try ScheduleStore(connection: owner).add(
                NewSchedule(name: "every-second", cron: "* * * * * *", queue: "ticks", jobType: "tick"))
            try db.withLoginRole(in: "queuetop_worker") { config, _ in
                let worker = try Connection.connect(config)
                defer { worker.close() }
                #expect(state(worker, "SELECT count(*) FROM queuetop.schedules") == "42501")
                let store = ScheduleStore(connection: worker)
                #expect(try store.isInstalled())
                var fired = 0
                for _ in 0..<3 {
                    let deadline = Date().addingTimeInterval(2)
                    var step = try store.tick()
                    while step.fired.isEmpty && Date() < deadline {
                        Thread.sleep(forTimeInterval: min(max(step.secondsUntilNextDue ?? 0.05, 0.01), 0.3))
                        step = try store.tick()
                    }
                    #expect(step.fired.map(\.outcome) == ["enqueued"])
                    #expect(step.secondsUntilNextDue != nil && step.secondsUntilNextDue! <= 1.0)
                    fired += step.fired.count
                }
                #expect(fired == 3)
            }
            #expect(try int(owner, "SELECT count(*)::int FROM job_queue WHERE queue = 'ticks'") == 3)
        }
    }

    // MARK: 4. the producer role

    @Test func aProducerEnqueuesAndSeesOnlyItsOwnJobs() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let dead = try seedDeadLetters(owner, 1, queue: "prod", type: "boom")[0]
            try db.withLoginRole(in: "queuetop_producer") { configA, roleA in
                try db.withLoginRole(in: "queuetop_producer") { configB, _ in
                    let a = try Connection.connect(configA)
                    let b = try Connection.connect(configB)
                    defer { a.close(); b.close() }
                    let id: UUID = try a.query("""
                        SELECT queuetop.enqueue_job('prod', 'send', '{"to":"x"}', 0, NULL, 'k1', NULL, 3600)
                        """).scalar()
                    #expect(try int(owner, "SELECT count(*)::int FROM job_queue WHERE id = \(id) AND enqueued_by = \(roleA)") == 1)
                    // The owner's worker runs it.
                    try owner.query("SELECT count(*) FROM claim_jobs('w', ARRAY['prod'], 10)")
                    try owner.query("SELECT complete_jobs('w', ARRAY[\(id)]::uuid[], NULL, ARRAY['{\"ok\":1}'::jsonb])")

                    let mine = try a.query("SELECT status, result::text AS result FROM queuetop.job_status(\(id))")
                    #expect(mine.count == 1)
                    #expect(try mine.first?.decode("status", as: String.self) == "completed")
                    #expect(try mine.first?.decode("result", as: String.self) == #"{"ok": 1}"#)
                    // B sees nothing of A's job, not even that it exists, nor the owner's.
                    #expect(try int(b, "SELECT count(*)::int FROM queuetop.job_status(\(id))") == 0)
                    #expect(try int(a, "SELECT count(*)::int FROM queuetop.job_status(\(dead))") == 0)
                    // Nor its result through the dedup cache: B's same key queues B's own job.
                    let bHit = try b.query("""
                        SELECT status, result::text AS result FROM queuetop.enqueue_jobs(
                          '[{"queue":"prod","type":"send","dedup_key":"k1","unique_for_s":3600}]')
                        """)
                    #expect(try bHit.first?.decode("status", as: String.self) == "pending")
                    #expect(try bHit.first?.decode("result", as: String?.self) == nil)
                    let aHit = try a.query("""
                        SELECT id, status FROM queuetop.enqueue_jobs(
                          '[{"queue":"prod","type":"send","dedup_key":"k1","unique_for_s":3600}]')
                        """)
                    #expect(try aHit.first?.decode("id", as: UUID.self) == id)
                    #expect(try aHit.first?.decode("status", as: String.self) == "completed")

                    // Nothing else.
                    for sql: Query in [
                        "SELECT count(*) FROM queuetop.job_queue",
                        "SELECT count(*) FROM queuetop.audit_log",
                        "SELECT count(*) FROM queuetop.claim_jobs('w', NULL, 10)",
                        "SELECT queuetop.requeue_dlq_job(\(dead), true)",
                        "SELECT queuetop.cancel_job(\(id))",
                        "SELECT queuetop.pause_queue('prod')",
                        "SELECT queuetop.complete_jobs('w', ARRAY[\(id)]::uuid[])",
                        "SELECT queuetop.queue_health_snapshot()",
                    ] {
                        #expect(state(a, sql) == "42501", "\(sql)")
                    }
                }
            }
            #expect(try int(owner, "SELECT count(*)::int FROM queues WHERE paused") == 0)
            #expect(try jobStatuses(owner, [dead]) == ["dead_letter"])
        }
    }

    // MARK: 5. the audit trail

    @Test func anAuditRowServesOnlyTheRoleActionAndFilterThatOpenedIt() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let emails = try seedDeadLetters(owner, 4, queue: "emails", type: "smtp_error")
            let other = try seedDeadLetters(owner, 2, queue: "other", type: "smtp_error")
            let asOf: Date = try owner.query("SELECT now()").scalar()
            try db.withLoginRole(in: "queuetop_operator") { configA, _ in
                try db.withLoginRole(in: "queuetop_operator") { configB, roleB in
                    let a = try Connection.connect(configA)
                    let b = try Connection.connect(configB)
                    defer { a.close(); b.close() }
                    let stamp = PostgresTimestamp.format(asOf)
                    let rowA = try AuditStore(connection: a).begin(
                        action: "dlq.requeue", filter: JSONText(#"{"queue":"emails","error_type":null,"as_of":"\#(stamp)"}"#))
                    let delA = try AuditStore(connection: a).begin(
                        action: "dlq.delete", filter: JSONText(#"{"queue":"emails","error_type":null,"as_of":"\#(stamp)"}"#))

                    // B files a batch under A's row: refused, nothing moves.
                    let byB = refusal(b, "SELECT queuetop.requeue_dlq_batch('emails', NULL, true, \(asOf), 100, \(rowA))")
                    #expect(byB.state == "42501" && byB.message.contains("belongs to role"), "\(byB.message)")
                    #expect(state(b, "SELECT queuetop.delete_dlq_batch('emails', NULL, \(asOf), 100, \(delA))") == "42501")
                    // A under its own row, but another queue, error type or as_of: refused.
                    for sql: Query in [
                        "SELECT queuetop.requeue_dlq_batch('other', NULL, true, \(asOf), 100, \(rowA))",
                        "SELECT queuetop.requeue_dlq_batch(NULL, NULL, true, \(asOf), 100, \(rowA))",
                        "SELECT queuetop.requeue_dlq_batch('emails', 'smtp_error', true, \(asOf), 100, \(rowA))",
                        "SELECT queuetop.requeue_dlq_batch('emails', NULL, true, \(asOf.addingTimeInterval(60)), 100, \(rowA))",
                        "SELECT queuetop.delete_dlq_batch('emails', NULL, \(asOf), 100, \(rowA))",
                        "SELECT queuetop.delete_dlq_batch('other', NULL, \(asOf), 100, \(delA))",
                    ] {
                        #expect(state(a, sql) == "42501", "\(sql)")
                    }
                    #expect(try jobStatuses(owner, emails + other) == ["dead_letter"])
                    #expect(try int(owner, "SELECT sum(affected)::int FROM audit_log WHERE id IN (\(rowA), \(delA))") == 0)

                    // The right role, action and filter: counted on A's row.
                    #expect(try int(a, "SELECT queuetop.requeue_dlq_batch('emails', NULL, true, \(asOf), 100, \(rowA))") == 4)
                    #expect(try int(owner, "SELECT affected::int FROM audit_log WHERE id = \(rowA)") == 4)
                    #expect(try jobStatuses(owner, other) == ["dead_letter"])

                    // The actor is the login role, whatever the session claims.
                    try b.executeScript("SET queuetop.actor = 'ceo'")
                    _ = try b.query("SELECT queuetop.requeue_dlq_batch('other', NULL, true, \(asOf), 100)")
                    let row = try owner.query("""
                        SELECT actor, db_role, client_label FROM audit_log WHERE action = 'dlq.requeue' AND db_role = \(roleB)
                        """)
                    #expect(row.count == 1)
                    #expect(try row.first?.decode("actor", as: String.self) == roleB)
                    #expect(try row.first?.decode("client_label", as: String.self) == "ceo")
                    let listed = try AuditStore(connection: owner).list(action: "dlq.requeue").first
                    #expect(listed?.actor == roleB && listed?.clientLabel == "ceo")
                    #expect(listed?.actorDescription == "\(roleB) (claims ceo)")
                }
            }
        }
    }

    // MARK: 6. credentials

    @Test func credentialsInUrlsNeverReachWhatAViewerReads() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let op = try Connection.connect(config)
                defer { op.close() }
                let refused = refusal(op, "SELECT queuetop.add_alert_hook('h', 'https://bot:hunter2@hooks.example.com/x')")
                #expect(refused.state == "22023" && refused.message.contains("secret header"), "\(refused.message)")
                #expect(state(op, "SELECT queuetop.add_alert_hook('h', 'https://hooks.example.com/x?u=a@b')") == nil)
            }
            let jobs = JobStore(connection: owner)
            let one = try jobs.enqueue(NewJob(queue: "http", type: "call")).id
            let two = try jobs.enqueue(NewJob(queue: "http", type: "call")).id
            try db.withLoginRole(in: "queuetop_worker") { config, _ in
                let worker = try Connection.connect(config)
                defer { worker.close() }
                try worker.query("SELECT count(*) FROM queuetop.claim_jobs('w1', ARRAY['http'], 10)")
                try worker.query("""
                    SELECT queuetop.fail_jobs('w1', ARRAY[\(one)]::uuid[], ARRAY['POST https://svc:hunter2@api.example.com/v1 failed'],
                      ARRAY['http_error'], ARRAY['{"url":"https://svc:hunter2@api.example.com/v1?q=1","nested":{"endpoint":"http://only-user@h.example/p"}}'::jsonb])
                    """)
                try worker.query("""
                    SELECT queuetop.fail_job(\(two), 'x', 'http_error', '{"url":"https://svc:hunter2@api.example.com/v1"}'::jsonb)
                    """)
            }
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let viewer = try Connection.connect(config)
                defer { viewer.close() }
                let seen: String = try viewer.query("""
                    SELECT concat_ws(' ', (SELECT string_agg(url, ' ') FROM queuetop.alert_hooks),
                                     (SELECT string_agg(concat_ws(' ', error_message, error_details::text), ' ') FROM queuetop.job_queue),
                                     (SELECT string_agg(concat_ws(' ', error_message, error_details::text), ' ') FROM queuetop.job_attempts))
                    """).scalar()
                #expect(!seen.contains("hunter2") && !seen.contains("only-user"), "\(seen)")
                #expect(seen.contains("https://api.example.com/v1?q=1") && seen.contains("http://h.example/p"), "\(seen)")
            }
        }
    }

    /// 0014 strips the userinfo of hooks stored before it, and disables hooks whose secret
    /// names a variable the worker must never send.
    @Test func upgradingStripsStoredHookCredentialsAndDisablesForbiddenSecrets() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            defer { conn.close() }
            let set = try MigrationFiles.loadSet()
            try MigrationRunner(files: set.versioned.filter { $0.name < "0014" }).migrate(on: conn)
            try conn.executeScript("""
                INSERT INTO alert_hooks (name, url, secret_header, secret_env) VALUES
                  ('creds', 'https://bot:hunter2@hooks.example.com/a/b?x=1', NULL, NULL),
                  ('pg', 'https://evil.example.com/', 'X-Token', 'PGPASSWORD'),
                  ('fine', 'https://hooks.example.com/ok', 'Authorization', 'ALERT_TOKEN');
                """)
            try MigrationRunner(set).migrate(on: conn)
            let rows = try conn.query("SELECT name, url, enabled FROM alert_hooks ORDER BY name")
            let got = try rows.map { "\(try $0.decode("name", as: String.self)) \(try $0.decode("url", as: String.self)) \(try $0.decode("enabled", as: Bool.self))" }
            #expect(got == ["creds https://hooks.example.com/a/b?x=1 true",
                            "fine https://hooks.example.com/ok true",
                            "pg https://evil.example.com/ false"])
        }
    }

    // MARK: 7. sane times

    @Test func timesOutsideTheSaneRangeAreRefusedNamingTheField() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let cases: [(Query, String)] = [
                ("SELECT enqueue_job('t', 'x', '{}', 0, 'infinity')", "run_at"),
                ("SELECT enqueue_job('t', 'x', '{}', 0, '-infinity')", "run_at"),
                ("SELECT enqueue_job('t', 'x', '{}', 0, '1969-12-31 23:00:00+00')", "run_at"),
                ("SELECT enqueue_job('t', 'x', '{}', 0, NULL, NULL, NULL, NULL, 'infinity')", "expires_at"),
                ("SELECT * FROM enqueue_jobs('[{\"queue\":\"t\",\"type\":\"x\",\"run_at\":\"infinity\"}]')", "run_at"),
                ("SELECT * FROM enqueue_jobs('[{\"queue\":\"t\",\"type\":\"x\",\"expires_at\":\"12000-01-01\"}]')", "expires_at"),
                ("SELECT create_schedule('s', '* * * * *', 't', 'x', '{}', 0, 'infinity')", "next_run_at"),
                ("SELECT create_schedule('s', '* * * * *', 't', 'x', '{}', 0, '-infinity')", "next_run_at"),
                ("SELECT requeue_dlq_batch(NULL, NULL, true, 'infinity', 10)", "as_of"),
                ("SELECT delete_dlq_batch(NULL, NULL, '-infinity', 10)", "as_of"),
                ("SELECT set_circuit_breaker('t', 'open', 3, 'infinity')", "reopen_at"),
            ]
            try conn.query("SELECT enqueue_job('t', 'x')")
            for (sql, field) in cases {
                let r = refusal(conn, sql)
                #expect(r.state == "22023" && r.message.contains(field) && r.message.contains("1970-01-01"),
                        "\(sql): \(r.message)")
            }
            #expect(try int(conn, "SELECT count(*)::int FROM job_queue") == 1)
            #expect(try int(conn, "SELECT count(*)::int FROM schedules") == 0)
            // A sane far-future time is fine.
            #expect(state(conn, "SELECT enqueue_job('t', 'x', '{}', 0, '9999-12-31 12:00:00+00')") == nil)
        }
    }

    @Test func aScheduleRowWithAnInfiniteTimeIsDisabledAndTheOthersStillFire() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            _ = try ScheduleStore(connection: owner).add(
                NewSchedule(name: "good", cron: "* * * * * *", queue: "ticks", jobType: "tick"))
            try owner.executeScript("""
                INSERT INTO schedules (name, cron, queue, job_type, next_run_at) VALUES
                  ('future', '* * * * *', 'ticks', 'bad', 'infinity'),
                  ('past', '* * * * *', 'ticks', 'bad', '-infinity');
                UPDATE schedules SET next_run_at = now() - interval '1 second' WHERE name = 'good';
                """)
            try db.withLoginRole(in: "queuetop_worker") { config, _ in
                let worker = try Connection.connect(config)
                defer { worker.close() }
                let step = try ScheduleStore(connection: worker).tick()
                #expect(step.fired.map(\.name) == ["good"])
                #expect(step.secondsUntilNextDue != nil && step.secondsUntilNextDue!.isFinite)
            }
            let rows = try owner.query("SELECT name, enabled, coalesce(last_outcome, '') AS o FROM schedules ORDER BY name")
            let got = try rows.map { "\(try $0.decode("name", as: String.self)) \(try $0.decode("enabled", as: Bool.self))" }
            #expect(got == ["future false", "good true", "past false"])
            #expect(try rows.last?.decode("o", as: String.self).contains("outside 1970-01-01") == true)
            #expect(try int(owner, "SELECT count(*)::int FROM job_queue WHERE queue = 'ticks' AND job_type = 'tick'") == 1)
        }
    }

    // MARK: 8. alert-hook secrets

    @Test func anOperatorCannotNameTheWorkersOwnSecretsForAHook() throws {
        try TestDatabase.with { db in
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let op = try Connection.connect(config)
                defer { op.close() }
                for env in ["PGPASSWORD", "PGSERVICEFILE", "QUEUETOP_DATABASE_URL", "lower_case", "1ABC", "A-B"] {
                    let r = refusal(op, "SELECT queuetop.add_alert_hook('h', 'https://x.example.com/', 'Authorization', \(env))")
                    #expect(r.state == "22023" && r.message.contains("not allowed"), "\(env): \(r.message)")
                }
                #expect(state(op, "SELECT queuetop.add_alert_hook('h', 'https://x.example.com/', 'Authorization', 'ALERT_TOKEN')") == nil)
            }
        }
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The queue engine's commands as a user runs them: the real binary against a real database.
/// Each action is checked in the database, with its audit row; each bad input changes nothing.
@Suite struct EngineCommandTests {
    typealias Output = (status: Int32, stdout: String, stderr: String)

    /// Runs `queuetop ARGS --db <test database>`; stdin is a pipe, never a terminal.
    static func queuetop(_ db: TestDatabase, _ args: [String], stdin: String? = nil) throws -> Output {
        try QueuetopBinary.run(args + ["--db", db.conninfo], stdin: stdin)
    }

    static func int(_ conn: Connection, _ sql: Query) throws -> Int { try conn.query(sql).scalar() }

    /// (affected, what the client claimed: its user@host) of each audit row of `action`, oldest first.
    static func audits(_ conn: Connection, _ action: String) throws -> [(affected: Int, actor: String?)] {
        try conn.query("SELECT affected::int, client_label FROM audit_log WHERE action = \(action) ORDER BY id")
            .map { (try $0.decode("affected"), try $0.decode("client_label")) }
    }

    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    // MARK: enqueue

    @Test func enqueueWithAPeriodATenantAndAnExpiryAndRefusesBadOnes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let sync = ["enqueue", "sync", "--type", "store", "--dedup-key", "store:7", "--unique-for", "10m",
                        "--tenant", "shop-7", "--expires-in", "1h", "--json"]
            let first = try Self.queuetop(db, sync)
            #expect(first.status == 0, "\(first.stderr)")
            let id = try #require((try Self.json(first.stdout) as? [String: Any])?["id"] as? String)
            let row = try conn.query("""
                SELECT tenant, expires_at > now() + interval '59 minutes' AS later FROM job_queue WHERE id = \(id)::uuid
                """)[0]
            #expect(try row.decode("tenant", as: String.self) == "shop-7" && row.decode("later", as: Bool.self))
            // The job completes with a result; the same command within 10 minutes answers with it.
            _ = try JobStore(connection: conn).claim(worker: "w", queues: ["sync"], max: 1)
            try JobStore(connection: conn).complete(worker: "w", ids: [JobID(id)!], results: [JSONText(#"{"orders": 42}"#)])
            let hit = try Self.queuetop(db, sync)
            let answer = try #require(try Self.json(hit.stdout) as? [String: Any])
            #expect(answer["id"] as? String == id && answer["status"] as? String == "completed")
            #expect((answer["result"] as? [String: Any])?["orders"] as? Int == 42)
            let plain = try Self.queuetop(db, Array(sync.dropLast()))
            #expect(plain.stdout.contains("completed within --unique-for; nothing queued") && plain.stdout.contains(#""orders": 42"#))

            for (args, message) in [
                (["--unique-for", "10m"], "--unique-for needs --dedup-key"),
                (["--dedup-key", "k", "--unique-for", "0"], "expected a positive duration"),
                (["--dedup-key", "k", "--unique-for", "ten minutes"], "expected a positive duration"),
                (["--expires-in", "5m", "--expires-at", "2030-01-01T00:00:00Z"], "not both"),
                (["--expires-at", "2001-01-01T00:00:00Z"], "not after both now"),
                (["--expires-at", "tomorrow"], "expected an ISO 8601 time"),
                (["--tenant", ""], "tenant key"),
            ] {
                let out = try Self.queuetop(db, ["enqueue", "other", "--type", "t"] + args)
                #expect(out.status != 0 && out.stderr.contains(message), "\(args): \(out.stderr)")
            }
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'other'") == 0)
        }
    }

    @Test func jobShowTellsWhatHappenedAndJobCancelCancelsOnlyAPendingJob() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let done = try jobs.enqueue(NewJob(queue: "sync", type: "store", tenant: "shop-7")).id
            _ = try jobs.claim(worker: "w", queues: ["sync"], max: 1)
            try jobs.complete(worker: "w", ids: [JobID(done)], results: [JSONText(#"{"orders": 42}"#)])
            let shown = try Self.queuetop(db, ["job", "show", done.uuidString.lowercased()])
            #expect(shown.status == 0, "\(shown.stderr)")
            for line in ["status    completed", "tenant    shop-7", "result:", #""orders": 42"#] {
                #expect(shown.stdout.contains(line), "missing \(line) in \(shown.stdout)")
            }
            let asJSON = try #require(try Self.json(Self.queuetop(db, ["job", "show", done.uuidString, "--json"]).stdout) as? [String: Any])
            #expect((asJSON["result"] as? [String: Any])?["orders"] as? Int == 42 && asJSON["tenant"] as? String == "shop-7")

            let pending = try jobs.enqueue(NewJob(queue: "sync", type: "store")).id
            let cancel = try Self.queuetop(db, ["job", "cancel", pending.uuidString])
            #expect(cancel.status == 0, "\(cancel.stderr)")
            #expect(try Self.queuetop(db, ["job", "show", pending.uuidString]).stdout.contains("status    cancelled (operator)"))
            #expect(try Self.audits(conn, "job.cancel").count == 1)
            // A completed job cannot be cancelled; a bad or unknown id is a clear error. Nothing changes.
            let refused = try Self.queuetop(db, ["job", "cancel", done.uuidString])
            #expect(refused.status != 0 && refused.stderr.contains("only a pending or running job can be cancelled"))
            let bad = try Self.queuetop(db, ["job", "show", "not-a-uuid"])
            #expect(bad.status != 0 && bad.stderr.contains("is not a job id"))
            let unknown = try Self.queuetop(db, ["job", "cancel", "01a201e7-a38f-72ad-9bc7-bfa9eb24a81f"])
            #expect(unknown.status != 0 && unknown.stderr.contains("unknown job"))
            #expect(try Self.audits(conn, "job.cancel").count == 1)
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 1)
        }
    }

    @Test func enqueueOneJobABatchFromStdinAndDedup() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let one = try Self.queuetop(db, ["enqueue", "emails", "--type", "send", "--payload", #"{"to":"a@example.com"}"#,
                                             "--priority", "5", "--json"])
            #expect(one.status == 0, "\(one.stderr)")
            let id = try #require((try Self.json(one.stdout) as? [String: Any])?["id"] as? String)
            let row = try conn.query("SELECT queue, job_type, priority, payload->>'to' AS to FROM job_queue WHERE id = \(id)::uuid")[0]
            #expect(try row.decode("queue", as: String.self) == "emails" && row.decode("job_type", as: String.self) == "send")
            #expect(try row.decode("priority", as: Int.self) == 5 && row.decode("to", as: String.self) == "a@example.com")

            let first = try Self.queuetop(db, ["enqueue", "sync", "--type", "store", "--dedup-key", "store-1:2025-11"])
            let again = try Self.queuetop(db, ["enqueue", "sync", "--type", "store", "--dedup-key", "store-1:2025-11"])
            #expect(first.status == 0 && again.status == 0)
            let firstID = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(again.stdout.hasPrefix(firstID) && again.stdout.contains("existing pending job with this dedup key"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'sync'") == 1)

            let lines = """
                {"to": "b@example.com"}

                {"type": "digest", "payload": {"to": "c@example.com"}, "priority": 9}
                {"to": "d@example.com"}
                """
            let batch = try Self.queuetop(db, ["enqueue", "emails", "--type", "send", "--from", "-", "--batch-size", "2"], stdin: lines)
            #expect(batch.status == 0, "\(batch.stderr)")
            #expect(batch.stdout.contains("enqueued 3 job(s)"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'emails'") == 4)
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE job_type = 'digest' AND priority = 9") == 1)

            let scheduled = try Self.queuetop(db, ["enqueue", "reports", "--type", "monthly", "--run-at", "2030-01-01T06:00:00Z",
                                                   "--max-attempts", "2", "--json"])
            #expect(scheduled.status == 0, "\(scheduled.stderr)")
            let when = try conn.query("SELECT to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS at, max_attempts FROM job_queue WHERE queue = 'reports'")[0]
            #expect(try when.decode("at", as: String.self) == "2030-01-01 06:00" && when.decode("max_attempts", as: Int.self) == 2)
        }
    }

    @Test func enqueueBadInputIsOneClearLineAndNothingIsInserted() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let bad = try Self.queuetop(db, ["enqueue", "emails", "--type", "send", "--payload", "{oops"])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("not valid JSON") && !bad.stderr.contains("Fatal error"))
            // Line 3 is bad: lines 1 and 2 are not enqueued either.
            let badLine = try Self.queuetop(db, ["enqueue", "emails", "--type", "send", "--from", "-"],
                                            stdin: "{\"n\": 1}\n{\"n\": 2}\n{\"n\": \n")
            #expect(badLine.status != 0 && badLine.stderr.contains("line 3 is not valid JSON"))
            // The database refuses the second batch (payload over 1 MiB): the first is rolled back.
            let huge = "{\"blob\": \"" + String(repeating: "x", count: 1_100_000) + "\"}"
            let refused = try Self.queuetop(db, ["enqueue", "emails", "--type", "send", "--from", "-", "--batch-size", "1"],
                                            stdin: "{\"n\": 1}\n" + huge + "\n")
            #expect(refused.status != 0 && refused.stderr.contains("1 MiB"))
            let badTime = try Self.queuetop(db, ["enqueue", "emails", "--type", "send", "--run-at", "tomorrow"])
            #expect(badTime.status != 0 && badTime.stderr.contains("expected an ISO 8601 time"))
            let noType = try Self.queuetop(db, ["enqueue", "emails"])
            #expect(noType.status != 0 && noType.stderr.contains("--type is required"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue") == 0)
            #expect(try Self.int(conn, "SELECT count(*)::int FROM queues") == 0)
        }
    }

    // MARK: dlq

    /// A requeue without --reset-attempts keeps the count and grants more tries, so a job can
    /// die again with 6 attempts and max_attempts 5: printed "6/5" that reads as impossible.
    /// `dlq list` and `job show` say "6 (max 5)", as the dashboard does (AttemptsText).
    @Test func attemptsBeyondTheLimitAreWrittenTruthfully() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let ids = try JobFixtures.deadLetters(conn, 2, type: "smtp_error")
            // What requeue-without-reset then one more failure leaves; the other job stays within.
            try conn.execute("UPDATE job_queue SET attempt_count = 6, max_attempts = 5 WHERE id = \(ids[0])")
            try conn.execute("UPDATE job_queue SET attempt_count = 2, max_attempts = 5 WHERE id = \(ids[1])")
            let list = try Self.queuetop(db, ["dlq", "list", "--queue", "emails"])
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.contains("attempts 6 (max 5)") && list.stdout.contains("attempts 2/5"), "\(list.stdout)")
            #expect(!list.stdout.contains("6/5"))
            let shown = try Self.queuetop(db, ["job", "show", ids[0].uuidString])
            #expect(shown.status == 0 && shown.stdout.contains("6 (max 5)") && !shown.stdout.contains("6/5"), "\(shown.stdout)")
            #expect(AttemptsText.of(6, max: 5) == "6 (max 5)" && AttemptsText.of(5, max: 5) == "5/5")
        }
    }

    @Test func dlqListGroupsAndBulkRequeueAndDeleteConfirmAndAudit() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobFixtures.deadLetters(conn, 4, type: "smtp_error")
            _ = try JobFixtures.deadLetters(conn, 2, type: "bounce")
            let list = try Self.queuetop(db, ["dlq", "list", "--queue", "emails", "--json"])
            let listed = try Self.json(list.stdout) as? [Any]
            #expect(list.status == 0 && listed?.count == 6)
            let groups = try #require(try Self.json(try Self.queuetop(db, ["dlq", "groups", "--json"]).stdout) as? [[String: Any]])
            #expect(groups.map { $0["error_type"] as? String } == ["smtp_error", "bounce"])
            #expect(groups.map { $0["count"] as? Int } == [4, 2])

            // No terminal and no --yes: refused, nothing requeued, nothing audited.
            let refused = try Self.queuetop(db, ["dlq", "requeue", "--error-type", "smtp_error"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("Requeue 4 dead-letter job(s)") && refused.stderr.contains("--yes"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'dead_letter'") == 6)
            #expect(try Self.int(conn, "SELECT count(*)::int FROM audit_log") == 0)

            let requeued = try Self.queuetop(db, ["dlq", "requeue", "--error-type", "smtp_error", "--yes", "--json", "--batch-size", "3"])
            #expect(requeued.status == 0, "\(requeued.stderr)")
            let counts = try #require(try Self.json(requeued.stdout) as? [String: Int])
            #expect(counts["requeued"] == 4 && counts["requested"] == 4, "\(counts)")
            // The audit id names the requeue for `dlq undo`.
            #expect(counts["audit_id"] == (try Self.int(conn, "SELECT max(id)::int FROM audit_log WHERE action = 'dlq.requeue'")))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'pending'") == 4)
            let requeueAudit = try Self.audits(conn, "dlq.requeue")
            #expect(requeueAudit.count == 1 && requeueAudit.first?.affected == 4)
            #expect(requeueAudit.first?.actor?.contains("@") == true)

            let keep = try Self.queuetop(db, ["dlq", "delete", "--all", "--queue", "emails"])
            #expect(keep.status != 0 && keep.stderr.contains("--yes"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'dead_letter'") == 2)
            let deleted = try Self.queuetop(db, ["dlq", "delete", "--all", "--queue", "emails", "--yes"])
            #expect(deleted.status == 0 && deleted.stdout.contains("deleted 2 of 2"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'dead_letter'") == 0)
            #expect(try Self.audits(conn, "dlq.delete").map(\.affected) == [2])
        }
    }

    @Test func dlqRequeueOfAJobNotInTheDLQOrAnUnknownQueueIsRefusedAndChangesNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let pending = try JobStore(connection: conn).enqueue(NewJob(queue: "emails", type: "send")).id
            _ = try JobFixtures.deadLetters(conn, 1, type: "smtp_error")
            let notDead = try Self.queuetop(db, ["dlq", "requeue", pending.uuidString])
            #expect(notDead.status != 0 && notDead.stderr.contains("is pending, not dead_letter"))
            let unknownQueue = try Self.queuetop(db, ["dlq", "requeue", "--all", "--queue", "emials", "--yes"])
            #expect(unknownQueue.status != 0 && unknownQueue.stderr.contains("unknown queue \"emials\""))
            let notAnID = try Self.queuetop(db, ["dlq", "requeue", "12345"])
            #expect(notAnID.status != 0 && notAnID.stderr.contains("is not a job id"))
            let twoModes = try Self.queuetop(db, ["dlq", "requeue", "--all", "--error-type", "x"])
            #expect(twoModes.status != 0 && twoModes.stderr.contains("exactly one"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'dead_letter'") == 1)
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'pending'") == 1)
            #expect(try Self.int(conn, "SELECT count(*)::int FROM audit_log") == 0)
            // The dead one, by id: requeued and audited.
            let dead: UUID = try conn.query("SELECT id FROM job_queue WHERE status = 'dead_letter'").scalar()
            let byID = try Self.queuetop(db, ["dlq", "requeue", dead.uuidString.lowercased()])
            #expect(byID.status == 0 && byID.stdout.contains("requeued 1 job(s)"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'pending'") == 2)
            #expect(try Self.audits(conn, "dlq.requeue").map(\.affected) == [1])
        }
    }

    // MARK: queue

    @Test func queuePauseResumeScaleSetChangeTheQueueAndAreAudited() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "emails", type: "send"))
            func setting(_ column: String) throws -> String? {
                try conn.query("SELECT to_jsonb(q) ->> \(column) FROM queues q WHERE name = 'emails'").scalar()
            }
            #expect(try Self.queuetop(db, ["queue", "pause", "emails"]).stdout.contains("paused"))
            #expect(try setting("paused") == "true")
            #expect(try Self.queuetop(db, ["queue", "resume", "emails"]).status == 0)
            #expect(try setting("paused") == "false")
            #expect(try Self.queuetop(db, ["queue", "scale", "emails", "3"]).status == 0)
            #expect(try setting("concurrency_limit") == "3")
            let set = try Self.queuetop(db, ["queue", "set", "emails", #"{"max_attempts": 3, "backoff_schedule_s": [300, 900, 1800]}"#, "--json"])
            #expect(set.status == 0, "\(set.stderr)")
            #expect((try Self.json(set.stdout) as? [String: Any])?["backoff_schedule_s"] as? [Int] == [300, 900, 1800])
            #expect(try setting("max_attempts") == "3")
            #expect(try Self.queuetop(db, ["queue", "scale", "emails", "unlimited"]).status == 0)
            #expect(try setting("concurrency_limit") == nil)
            let actions: [String] = try conn.query("SELECT action FROM audit_log ORDER BY id").map { try $0.decode(0) }
            #expect(actions == ["queue.pause", "queue.resume", "queue.scale", "queue.settings", "queue.scale"])
            let list = try Self.queuetop(db, ["queue", "list"])
            #expect(list.status == 0 && list.stdout.contains("emails\tactive\tconcurrency unlimited\tmax attempts 3"))
            #expect(list.stdout.contains("keeps finished jobs 604800s"))
        }
    }

    @Test func queueCommandsOnAnUnknownQueueOrWithBadValuesChangeNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "emails", type: "send"))
            for args in [["pause", "nope"], ["resume", "nope"], ["scale", "nope", "3"], ["set", "nope", #"{"max_attempts": 2}"#],
                         ["show", "nope"]] {
                let r = try Self.queuetop(db, ["queue"] + args)
                #expect(r.status != 0, "\(args)")
                #expect(r.stderr.contains("unknown queue \"nope\""), "\(args): \(r.stderr)")
            }
            for (args, message) in [(["scale", "emails", "0"], "between 1 and 100000"), (["scale", "emails", "many"], "expected a number"),
                                    (["scale", "emails", "99999999999"], "between 1 and 100000"),
                                    (["set", "emails", #"{"bogus": 1}"#], "unknown queue setting(s): bogus"),
                                    (["set", "emails", "not json"], "json"),
                                    (["set", "emails", #"{"max_attempts": 0}"#], "max_attempts")] {
                let r = try Self.queuetop(db, ["queue"] + args)
                #expect(r.status != 0 && r.stderr.lowercased().contains(message.lowercased()), "\(args): \(r.stderr)")
            }
            #expect(try Self.int(conn, "SELECT count(*)::int FROM queues") == 1)
            let row = try conn.query("SELECT paused, concurrency_limit, max_attempts FROM queues")[0]
            #expect(try !row.decode("paused", as: Bool.self) && row.decode("concurrency_limit", as: Int?.self) == nil)
            #expect(try row.decode("max_attempts", as: Int.self) == 5)
            #expect(try Self.int(conn, "SELECT count(*)::int FROM audit_log") == 0)
        }
    }

    // MARK: leads

    /// A run of `leads` leads and a funnel with one column; returns (run, funnel, column).
    static func leadsRun(_ conn: Connection, leads: Int, name: String) throws -> (run: String, funnel: String, column: String) {
        let run = UUID().uuidString.lowercased(), funnel = UUID().uuidString.lowercased(), column = UUID().uuidString.lowercased()
        try conn.execute("INSERT INTO extraction_runs (id, name) VALUES (\(run)::uuid, \(name))")
        try conn.execute("INSERT INTO funnels (id, name) VALUES (\(funnel)::uuid, 'Emails Gih')")
        try conn.execute("INSERT INTO funnel_columns (id, funnel_id, name) VALUES (\(column)::uuid, \(funnel)::uuid, 'Novo')")
        try conn.execute("INSERT INTO leads (run_id, name) SELECT \(run)::uuid, 'lead ' || g FROM generate_series(1, \(leads)) g")
        return (run, funnel, column)
    }

    @Test func leadsMoveConfirmsRunsToTheEndAndIsAudited() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let t = try Self.leadsRun(conn, leads: 250, name: "Restaurantes")
            let move = ["leads", "move", "--run", t.run, "--funnel", t.funnel, "--column", t.column, "--batch-size", "100"]
            let refused = try Self.queuetop(db, move)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("Move 250 lead(s) of run \"Restaurantes\" to column \"Novo\"?") && refused.stderr.contains("--yes"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM bulk_operations") == 0)
            #expect(try Self.int(conn, "SELECT count(*)::int FROM audit_log") == 0)

            let moved = try Self.queuetop(db, move + ["--yes", "--wait"])
            #expect(moved.status == 0, "\(moved.stderr)")
            #expect(moved.stdout.contains("completed: 250 leads moved"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM leads WHERE column_id = \(t.column)::uuid") == 250)
            #expect(try Self.audits(conn, "lead_migration.queue").map(\.affected) == [250])
            let status = try Self.queuetop(db, ["leads", "status", "--json"])
            let migrations = try #require((try Self.json(status.stdout) as? [String: Any])?["migrations"] as? [[String: Any]])
            #expect(migrations.count == 1 && migrations.first?["status"] as? String == "completed")
            #expect(migrations.first?["moved"] as? Int == 250)
        }
    }

    @Test func leadsBadInputIsRefusedBeforeAskingAndCancelTwiceIsHarmless() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let t = try Self.leadsRun(conn, leads: 120, name: "Padarias")
            // Checked before the question: an error, not "pass --yes".
            let unknownRun = try Self.queuetop(db, ["leads", "move", "--run", UUID().uuidString, "--funnel", t.funnel, "--column", t.column])
            #expect(unknownRun.status != 0 && unknownRun.stderr.contains("unknown extraction run"))
            let zeroBatch = try Self.queuetop(db, ["leads", "move", "--run", t.run, "--funnel", t.funnel, "--column", t.column,
                                                   "--batch-size", "0", "--yes"])
            #expect(zeroBatch.status != 0 && zeroBatch.stderr.contains("between 1 and 100000"))
            let notUUID = try Self.queuetop(db, ["leads", "move", "--run", "run-7", "--funnel", t.funnel, "--column", t.column])
            #expect(notUUID.status != 0 && notUUID.stderr.contains("is not a UUID"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM bulk_operations") == 0)

            // Queued (no --wait: the worker pool would run it), then cancelled twice.
            let queued = try Self.queuetop(db, ["leads", "move", "--run", t.run, "--funnel", t.funnel, "--column", t.column, "--yes"])
            #expect(queued.status == 0, "\(queued.stderr)")
            let cancel = try Self.queuetop(db, ["leads", "cancel", t.run])
            #expect(cancel.status == 0 && cancel.stdout.contains("cancelled 1 migration(s) of run \"Padarias\""))
            let again = try Self.queuetop(db, ["leads", "cancel", t.run])
            #expect(again.status == 0 && again.stdout.contains("nothing to cancel"))
            #expect(try Self.int(conn, "SELECT count(*)::int FROM leads WHERE column_id IS NOT NULL") == 0)
            #expect(try Self.int(conn, "SELECT count(*)::int FROM bulk_operations WHERE status = 'cancelled'") == 1)
            #expect(try Self.audits(conn, "lead_migration.cancel").map(\.affected) == [1, 0])
            let unknown = try Self.queuetop(db, ["leads", "cancel", UUID().uuidString])
            #expect(unknown.status != 0 && unknown.stderr.contains("unknown extraction run"))
        }
    }
}

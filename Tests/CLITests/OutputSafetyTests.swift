import Foundation
import Postgres
import TestSupport
import Testing

/// Hostile text in every field the CLI and the worker log print: the bytes written hold no ESC,
/// no C1 control, no bidi or zero-width character from the data, and no line the data forged
/// (docs/RELIABILITY.md, "Output safety").
@Suite struct OutputSafetyTests {
    /// An OSC that renames the terminal, a CSI that clears it, a C1 CSI, a RIGHT-TO-LEFT
    /// OVERRIDE, a zero-width space, and a newline followed by a fake log line.
    static let parts = ["\u{1b}]0;pwned\u{7}", "\u{1b}[2J", "\u{9b}31m", "\u{202e}", "\u{200b}",
                        "line\n2026-12-02T00:00:00Z ERROR forged"]
    static let evil = parts.joined(separator: "|")
    /// For columns whose check constraint refuses controls (queue names, tenants): what is left.
    static let evilName = "mail\u{202e}\u{200b}x"
    static let forged = "2026-12-02T00:00:00Z ERROR forged"

    /// True for what must not appear in output produced from hostile data.
    static func unsafe(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v == 0x1B || v == 0x07 || (0x80...0x9F).contains(v) || (0x202A...0x202E).contains(v)
            || (0x2066...0x2069).contains(v) || (0x200B...0x200F).contains(v) || v == 0x2060 || v == 0xFEFF || v == 0x061C
    }

    static func expectClean(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let bad = text.unicodeScalars.filter(unsafe).map { String(format: "U+%04X", $0.value) }
        #expect(bad.isEmpty, "\(what) wrote \(Set(bad).sorted()): \(text.debugDescription)", sourceLocation: sourceLocation)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(!lines.contains { $0.hasPrefix(forged) || $0.hasPrefix(" " + forged) || $0.contains("\n" + forged) },
                "\(what) printed a forged line: \(text.debugDescription)", sourceLocation: sourceLocation)
        #expect(!lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(forged) },
                "\(what) printed a forged line: \(text.debugDescription)", sourceLocation: sourceLocation)
    }

    /// A dead-letter job, a pending one and a processing one whose every printed field is
    /// hostile, a schedule, an alert hook delivery, all written as the superuser.
    static func plant(_ conn: Connection) throws -> (dead: UUID, running: UUID) {
        let q = evilName, e = evil
        let dead: UUID = try conn.query("""
            SELECT enqueue_job(\(q), \(e), '{"k": "v"}'::jsonb, 0, null, \(e), 1, null, null, \(evilName))
            """).scalar()
        try conn.query("SELECT fail_job(\(dead), \(e), \(e), null, false)")
        try conn.query("UPDATE job_attempts SET worker = \(e) WHERE job_id = \(dead)")
        let running: UUID = try conn.query("SELECT enqueue_job(\(q), \(e), '{}'::jsonb, 0, null, null, 3, null, null, \(evilName))").scalar()
        try conn.query("UPDATE job_queue SET status = 'processing', locked_by = \(e), started_at = now() WHERE id = \(running)")
        try conn.query("""
            INSERT INTO schedules (name, cron, queue, job_type, next_run_at, last_outcome)
            VALUES ('nightly', '@daily', \(q), \(e), now() + interval '1 day', \(e))
            """)
        try conn.query("SELECT add_alert_hook('ops', 'http://127.0.0.1:1/hook')")
        let notification: Int64 = try conn.query("""
            INSERT INTO alert_notifications (hook, alert_key, event, payload) VALUES ('ops', \(e), 'firing', '{}') RETURNING id
            """).scalar()
        try conn.query("""
            INSERT INTO alert_deliveries (notification_id, hook, alert_key, event, attempt, ok, error)
            VALUES (\(notification), 'ops', \(e), \(e), 1, false, \(e))
            """)
        return (dead, running)
    }

    @Test func everyCommandPrintsHostileFieldsAsOneSafeLine() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let ids = try Self.plant(conn)
            let dead = ids.dead.uuidString.lowercased(), running = ids.running.uuidString.lowercased()
            let commands: [[String]] = [
                ["dlq", "list"], ["dlq", "list", "--json"], ["dlq", "groups"], ["dlq", "groups", "--json"],
                ["job", "show", dead], ["job", "show", running], ["job", "show", dead, "--json"],
                ["status"], ["status", "--json"],
                ["schedule", "list"], ["schedule", "list", "--json"],
                ["queue", "list"], ["queue", "show", Self.evilName], ["queue", "show", Self.evilName, "--json"],
                ["alerts", "deliveries"], ["alerts", "deliveries", "--json"], ["alerts", "hooks", "list"],
            ]
            for args in commands {
                let r = try QueuetopBinary.run(args + ["--db", db.conninfo])
                #expect(r.status == 0, "\(args): \(r.stderr)")
                Self.expectClean(r.stdout + r.stderr, args.joined(separator: " "))
            }
            // One line per dead job, per group, per schedule, per delivery: nothing split.
            let lineCounts: [([String], Int)] = [
                (["dlq", "list"], 1), (["dlq", "groups"], 1), (["schedule", "list"], 1), (["alerts", "deliveries"], 1),
            ]
            for (args, n) in lineCounts {
                let r = try QueuetopBinary.run(args + ["--db", db.conninfo])
                #expect(r.stdout.split(separator: "\n").count == n, "\(args): \(r.stdout.debugDescription)")
            }
            // job show: the header fields are one line each, and the escapes are visible.
            let show = try QueuetopBinary.run(["job", "show", dead, "--db", db.conninfo])
            let typeLines = show.stdout.split(separator: "\n").filter { $0.hasPrefix("type") }
            #expect(typeLines.count == 1 && typeLines[0].contains("\\x1b]0;pwned\\x07") && typeLines[0].contains("\\u202e")
                    && typeLines[0].contains("line\\n2026"), "\(show.stdout.debugDescription)")
            // JSON output is still JSON, with the same strings.
            let json = try QueuetopBinary.run(["dlq", "list", "--json", "--db", db.conninfo])
            let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(parsed?.first?["error_message"] as? String == Self.evil)
            #expect(parsed?.first?["queue"] as? String == Self.evilName)
        }
    }

    /// The commands added with the jobs explorer, the timeline and the worker fleet: hostile
    /// job fields (type, error, worker, tenant), a mark label and client label, an audit row's
    /// filter, a worker's id and host, in text and --json.
    @Test func theJobsTimelineAndWorkersCommandsPrintHostileFieldsSafely() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try Self.plant(conn)
            let e = Self.evil
            // mark_event refuses controls and bidi overrides; the table's owner can store anything.
            try conn.query("INSERT INTO timeline_marks (kind, label, client_label) VALUES ('deploy', \(e), \(e))")
            try conn.query("SELECT record_audit('custom.action', jsonb_build_object('queue', \(e)::text, 'note', \(e)::text), 1)")
            try conn.query("SELECT register_worker(\(e), \(e), 42, ARRAY[\(e)::text], 2)")
            let commands: [[String]] = [
                ["jobs", "list", "--where", "state:dead"], ["jobs", "list", "--where", "state:dead", "--json"],
                ["jobs", "list", "--where", "state:running"], ["jobs", "list", "--where", "error:pwned"],
                ["jobs", "count", "--where", "state:dead"],
                ["timeline"], ["timeline", "--json"],
                ["workers", "list"], ["workers", "list", "--json"],
            ]
            for args in commands {
                let r = try QueuetopBinary.run(args + ["--db", db.conninfo])
                #expect(r.status == 0, "\(args): \(r.stderr)")
                Self.expectClean(r.stdout + r.stderr, args.joined(separator: " "))
            }
        }
    }

    @Test func errorMessagesAndServerNoticesAreOneSafeLineOnStderr() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // A trigger that says hostile things: a NOTICE and a WARNING for every insert, and an
            // error for queue "boom".
            try conn.executeScript("""
                CREATE FUNCTION queuetop.hostile_notice() RETURNS trigger LANGUAGE plpgsql AS $f$
                BEGIN
                  RAISE NOTICE '%', $n$\(Self.evil)$n$;
                  RAISE WARNING 'w%', $n$\(Self.evil)$n$ USING DETAIL = $n$\(Self.evil)$n$;
                  IF NEW.queue = 'boom' THEN RAISE EXCEPTION 'x%', $n$\(Self.evil)$n$; END IF;
                  RETURN NEW;
                END $f$;
                CREATE TRIGGER hostile_notice BEFORE INSERT ON queuetop.job_queue
                  FOR EACH ROW EXECUTE FUNCTION queuetop.hostile_notice();
                """)
            let ok = try QueuetopBinary.run(["enqueue", "mail", "--type", "send", "--db", db.conninfo])
            #expect(ok.status == 0, "\(ok.stderr)")
            Self.expectClean(ok.stdout + ok.stderr, "enqueue (notices)")
            let noticeLines = ok.stderr.split(separator: "\n").filter { $0.contains("NOTICE") || $0.contains("WARNING") }
            #expect(noticeLines.count == 2, "\(ok.stderr.debugDescription)")
            #expect(ok.stderr.contains("queuetop: server NOTICE: \\x1b]0;pwned\\x07|\\x1b[2J|\\u009b31m|\\u202e|\\u200b|line\\n2026"),
                    "\(ok.stderr.debugDescription)")
            #expect(ok.stderr.split(separator: "\n").count == 2, "nothing else on stderr: \(ok.stderr.debugDescription)")

            let failed = try QueuetopBinary.run(["enqueue", "boom", "--type", "send", "--db", db.conninfo])
            #expect(failed.status != 0)
            Self.expectClean(failed.stdout + failed.stderr, "enqueue (error)")
            #expect(failed.stderr.contains("x\\x1b]0;pwned"), "\(failed.stderr.debugDescription)")
        }
    }

    /// Every UPDATE of a job raises a server NOTICE quoting `evil`: the worker logs it.
    static func raiseHostileNoticeOnEveryJobUpdate(_ conn: Connection) throws {
        try conn.executeScript("""
            CREATE FUNCTION queuetop.hostile_notice() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN RAISE NOTICE '%', $n$\(evil)$n$; RETURN NEW; END $f$;
            CREATE TRIGGER hostile_notice BEFORE UPDATE ON queuetop.job_queue
              FOR EACH ROW EXECUTE FUNCTION queuetop.hostile_notice();
            """)
    }

    @Test func theWorkerLogKeepsHostileValuesOnTheirLine() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.raiseHostileNoticeOnEveryJobUpdate(conn)
            // A job type with no handler fails on its only attempt: the pool logs its queue and type.
            let id: UUID = try conn.query("SELECT enqueue_job(\(Self.evilName), \(Self.evil), '{}'::jsonb, 0, null, null, 1)").scalar()
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("qt-safety-\(UUID().uuidString).log").path
            defer { try? FileManager.default.removeItem(atPath: log) }
            let worker = try QueuetopBinary.start(["worker", "--queues", Self.evilName, "--db", db.conninfo], stderrLog: log)
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline,
                  try conn.query("SELECT status FROM job_queue WHERE id = \(id)").scalar(String.self) != "dead_letter" {
                Thread.sleep(forTimeInterval: 0.1)
            }
            Thread.sleep(forTimeInterval: 0.5)
            worker.terminate()
            worker.waitUntilExit()
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(try conn.query("SELECT status FROM job_queue WHERE id = \(id)").scalar(String.self) == "dead_letter")
            Self.expectClean(text, "worker log")
            #expect(text.contains("to DLQ"), "\(text)")
            #expect(text.contains("server NOTICE"), "\(text)")
            // Every line is one of ours: a timestamp, a level, a message.
            for line in text.split(separator: "\n") {
                #expect(line.range(of: #"^\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-][0-9:]+) (INFO|WARNING|ERROR) "#, options: .regularExpression) != nil,
                        "not a log line: \(line.debugDescription)")
            }
        }
    }

    @Test func dlqDeleteOfAJobThatIsNotDeadSaysSoAndAuditsNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let pending: UUID = try conn.query("SELECT enqueue_job('mail', 'send')").scalar()
            let dead: UUID = try conn.query("SELECT enqueue_job('mail', 'send')").scalar()
            try conn.query("SELECT fail_job(\(dead), 'smtp down', 'smtp_error', null, false)")
            func audits() throws -> Int { try conn.query("SELECT count(*)::int FROM audit_log WHERE action = 'dlq.delete'").scalar() }

            let p = pending.uuidString.lowercased()
            let r = try QueuetopBinary.run(["dlq", "delete", p, "--yes", "--db", db.conninfo])
            #expect(r.status != 0, "\(r.stdout)")
            #expect(r.stderr.contains("job \(p) is pending, not dead_letter"), "\(r.stderr)")
            #expect(try audits() == 0)
            let unknown = UUID().uuidString.lowercased()
            let u = try QueuetopBinary.run(["dlq", "delete", unknown, "--yes", "--db", db.conninfo])
            #expect(u.status != 0 && u.stderr.contains("job \(unknown) does not exist"), "\(u.stderr)")
            #expect(try audits() == 0)
            #expect(try conn.query("SELECT count(*)::int FROM job_queue").scalar(Int.self) == 2)

            // A mix: the dead one goes (one audit row), the pending one is named and stays.
            let mixed = try QueuetopBinary.run(["dlq", "delete", dead.uuidString, p, "--yes", "--db", db.conninfo])
            #expect(mixed.status == 0, "\(mixed.stderr)")
            #expect(mixed.stdout.contains("deleted 1 of 2"), "\(mixed.stdout)")
            #expect(mixed.stderr.contains("job \(p) is pending, not dead_letter; not deleted"), "\(mixed.stderr)")
            #expect(try audits() == 1)
            #expect(try conn.query("SELECT count(*)::int FROM job_queue").scalar(Int.self) == 1)
        }
    }

    @Test func theSQLFunctionAuditsNoDeletionOfNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let pending: UUID = try conn.query("SELECT enqueue_job('mail', 'send')").scalar()
            #expect(try conn.query("SELECT delete_dlq_jobs(ARRAY[\(pending)]::uuid[])").scalar(Int.self) == 0)
            #expect(try conn.query("SELECT count(*)::int FROM audit_log WHERE action = 'dlq.delete'").scalar(Int.self) == 0)
        }
    }
}

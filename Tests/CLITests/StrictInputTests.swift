import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Issue 17, "Strict input": every option, every field of `enqueue --from` and every key of a
/// handler config is checked before anything is sent. Each bad input exits 1 with a message
/// naming the bad thing (and the line, for --from), never crashes, and writes nothing.
@Suite struct StrictInputTests {
    typealias Output = (status: Int32, stdout: String, stderr: String)

    static func queuetop(_ db: TestDatabase, _ args: [String], stdin: String? = nil, timeout: Double = 60) throws -> Output {
        try QueuetopBinary.run(args + ["--db", db.conninfo], stdin: stdin, timeout: timeout)
    }

    static func jobs(_ conn: Connection) throws -> Int {
        try conn.query("SELECT count(*)::int FROM job_queue").scalar(Int.self)
    }

    static func temporaryFile(_ contents: String, _ name: String = "input.jsonl") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-strict-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs the command and checks: exit 1 (not a crash, not a usage error), every one of
    /// `mentions` in stderr, no stack trace, and `job_queue` holding as many rows as before.
    func refuses(_ db: TestDatabase, _ conn: Connection, _ args: [String], mentioning mentions: [String], stdin: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try Self.jobs(conn)
        let r = try Self.queuetop(db, args, stdin: stdin)
        #expect(r.status == 1, "\(args) exited \(r.status): \(r.stderr)\(r.stdout)", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(r.stderr.contains(m), "\(args): expected \(m.debugDescription) in \(r.stderr.debugDescription)", sourceLocation: sourceLocation)
        }
        #expect(!r.stderr.contains("Fatal error"), "\(args) crashed: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(try Self.jobs(conn) == before, "\(args) wrote jobs", sourceLocation: sourceLocation)
    }

    @Test func farFutureAndImpossibleDatesAreRefusedNamingTheOptionAndNothingIsStored() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            for (option, value) in [
                ("--run-at", "300000-01-01T00:00:00Z"),   // crashed with SIGILL
                ("--run-at", "10000-01-01T00:00:00Z"),    // was stored, then unreadable
                ("--run-at", "292278-06-01T00:00:00Z"),
                ("--run-at", "1969-12-31T23:59:59Z"),
                ("--run-at", "2026-02-30T00:00:00Z"),     // became March 2
                ("--run-at", "2026-02-29T12:00:00Z"),     // 2026 is not a leap year
                ("--run-at", "2026-04-31T12:00:00Z"),
                ("--run-at", "2026-01-01T24:00:00Z"),
                ("--run-at", "2026-01-01T10:00:60Z"),
                ("--expires-at", "300000-01-01T00:00:00Z"),
                ("--expires-at", "2027-02-30T00:00:00Z"),
                ("--expires-at", "12345-01-01T00:00:00Z"),
            ] {
                try refuses(db, conn, ["enqueue", "dates", "--type", "t", option, value], mentioning: [option, value])
            }
            // Durations: negative, zero, overflowing.
            for (option, value) in [("--expires-in", "-5m"), ("--expires-in", "99999999999999999999d"), ("--expires-in", "0"),
                                    ("--unique-for", "-1h"), ("--unique-for", "9223372036854775807s"), ("--unique-for", "400d")] {
                try refuses(db, conn, ["enqueue", "dates", "--type", "t", "--dedup-key", "k", option, value], mentioning: [option])
            }
            // The same dates in --from lines name the line and the field.
            try refuses(db, conn, ["enqueue", "dates", "--type", "t", "--from", "-"], mentioning: ["line 2", "run_at"],
                        stdin: #"{"payload": {}}"# + "\n" + #"{"payload": {}, "run_at": "300000-01-01T00:00:00Z"}"# + "\n")
            try refuses(db, conn, ["enqueue", "dates", "--type", "t", "--from", "-"], mentioning: ["line 1", "expires_at"],
                        stdin: #"{"payload": {}, "expires_at": "2030-02-30T00:00:00Z"}"# + "\n")
            // A real date at the edges is accepted.
            let ok = try Self.queuetop(db, ["enqueue", "dates", "--type", "t", "--run-at", "9999-12-31T23:59:59Z"])
            #expect(ok.status == 0, "\(ok.stderr)")
            let leap = try Self.queuetop(db, ["enqueue", "dates", "--type", "t", "--run-at", "2028-02-29T12:00:00+01:00"])
            #expect(leap.status == 0, "\(leap.stderr)")
            let stored: String = try conn.query("""
                SELECT string_agg(to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ',' ORDER BY run_at) FROM job_queue
                """).scalar()
            #expect(stored == "2028-02-29 11:00:00,9999-12-31 23:59:59")
        }
    }

    @Test func aStoredOutOfRangeTimestampIsReadNotACrash() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // Put there before the checks existed (or by raw SQL): years past 9999 and BC.
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "far", type: "t"))
            let id: String = try conn.query("SELECT id::text FROM job_queue").scalar()
            try conn.query("UPDATE job_queue SET run_at = '20000-06-01 00:00:00+00', created_at = '0044-03-15 00:00:00+00 BC'")
            let shown = try Self.queuetop(db, ["job", "show", id])
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains("20000-06-01"), "\(shown.stdout)")
            #expect(!shown.stderr.contains("Fatal error"))
        }
    }

    @Test func everyFieldOfFromIsTypeCheckedAndAnUnknownKeyIsRefused() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let good = #"{"type": "send", "payload": {"n": 1}, "dedup_key": "k1"}"#
            for (line, field) in [
                (#"{"type": "send", "payload": {}, "priority": "high"}"#, "priority"),
                (#"{"type": "send", "payload": {}, "priority": true}"#, "priority"),
                (#"{"type": "send", "payload": {}, "priority": 1.5}"#, "priority"),
                (#"{"type": "send", "payload": {}, "priority": 99999999999999999999}"#, "priority"),
                (#"{"type": "send", "payload": {}, "priority": 5000000}"#, "priority"),
                (#"{"type": "send", "payload": {}, "dedup_key": 123}"#, "dedup_key"),
                (#"{"type": 7, "payload": {}}"#, "type"),
                (#"{"type": "send", "payload": {}, "queue": ["a"]}"#, "queue"),
                (#"{"type": "send", "payload": {}, "max_attempts": "3"}"#, "max_attempts"),
                (#"{"type": "send", "payload": {}, "max_attempts": 0}"#, "max_attempts"),
                (#"{"type": "send", "payload": {}, "unique_for_s": -1, "dedup_key": "k"}"#, "unique_for_s"),
                (#"{"type": "send", "payload": {}, "run_at": 1767225600}"#, "run_at"),
                (#"{"type": "send", "payload": {}, "expires_at": {}}"#, "expires_at"),
                (#"{"type": "send", "payload": {}, "tenant": false}"#, "tenant"),
                (#"{"type": "send", "payload": {}, "priorty": 3}"#, "priorty"),
            ] {
                let path = try Self.temporaryFile(good + "\n" + line + "\n")
                try refuses(db, conn, ["enqueue", "mail", "--from", path], mentioning: ["line 2", "\"\(field)\""])
            }
            // Typed correctly, the same fields are all used.
            let path = try Self.temporaryFile(good + "\n" + #"{"type": "send", "payload": {}, "priority": -5, "dedup_key": "k2", "max_attempts": 3, "tenant": null}"# + "\n")
            let ok = try Self.queuetop(db, ["enqueue", "mail", "--from", path])
            #expect(ok.status == 0, "\(ok.stderr)")
            let rows: String = try conn.query("SELECT string_agg(dedup_key || ':' || priority || ':' || max_attempts, ',' ORDER BY dedup_key) FROM job_queue").scalar()
            #expect(rows == "k1:0:5,k2:-5:3")
        }
    }

    @Test func anEmptyFromSaysNoJobsNotCannotRead() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try refuses(db, conn, ["enqueue", "mail", "--type", "t", "--from", "/dev/null"], mentioning: ["no jobs in /dev/null"])
            let empty = try Self.temporaryFile("\n\n")
            try refuses(db, conn, ["enqueue", "mail", "--type", "t", "--from", empty], mentioning: ["no jobs in \(empty)"])
            try refuses(db, conn, ["enqueue", "mail", "--type", "t", "--from", "/no/such/file"], mentioning: ["cannot read /no/such/file"])
        }
    }

    @Test func aPayloadOverTheCapIsRefusedBeforeItIsSent() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // 1.2 MB on one line: named by its line, by the CLI (the database says "job N").
            let over = #"{"blob": ""# + String(repeating: "x", count: 1_200_000) + "\"}"
            try refuses(db, conn, ["enqueue", "mail", "--type", "t", "--from", "-"], mentioning: ["line 2", "the limit is 1 MiB"],
                        stdin: "{\"ok\": 1}\n" + over + "\n")
            let wrapped = #"{"type": "t", "payload": "# + over + "}"
            try refuses(db, conn, ["enqueue", "mail", "--from", "-"], mentioning: ["line 1", "the limit is 1 MiB"], stdin: wrapped + "\n")
            // 64 MB on one line: refused after reading 2 MiB of it, quickly.
            let huge = "[\"" + String(repeating: "y", count: 64 * 1_048_576) + "\"]\n"
            let path = try Self.temporaryFile(huge)
            let started = Date()
            try refuses(db, conn, ["enqueue", "mail", "--type", "t", "--from", path], mentioning: ["line 1", "1 MiB"])
            #expect(Date().timeIntervalSince(started) < 5)
            // Exactly at the cap is still accepted (the database measures its own text).
            let atCap = "\"" + String(repeating: "z", count: 1_048_576 - 2) + "\""
            let ok = try Self.queuetop(db, ["enqueue", "mail", "--type", "t", "--from", "-"], stdin: atCap + "\n")
            #expect(ok.status == 0, "\(ok.stderr)")
        }
    }

    @Test func negativeNumbersParseWhereValid() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let r = try Self.queuetop(db, ["enqueue", "mail", "--type", "t", "--priority", "-5"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try conn.query("SELECT priority FROM job_queue").scalar(Int.self) == -5)
            try refuses(db, conn, ["enqueue", "mail", "--type", "t", "--priority", "-5000000"], mentioning: ["--priority"])
            try refuses(db, conn, ["enqueue", "mail", "--type", "t", "--max-attempts", "-1"], mentioning: ["--max-attempts"])
            let s = try Self.queuetop(db, ["schedule", "add", "low", "@daily", "mail", "t", "--priority", "-7"])
            #expect(s.status == 0, "\(s.stderr)")
            #expect(try conn.query("SELECT priority FROM schedules WHERE name = 'low'").scalar(Int.self) == -7)
        }
    }

    @Test func anEmptyQueueListIsAnErrorNotEveryQueue() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "mail", type: "noop"))
            for queues in ["", ",", "mail,,other", " "] {
                for command in ["worker", "dash"] {
                    let r = try Self.queuetop(db, [command, "--queues", queues], timeout: 10)
                    #expect(r.status == 1, "\(command) --queues \(queues.debugDescription) exited \(r.status): \(r.stderr)")
                    #expect(r.stderr.contains("--queues"), "\(r.stderr)")
                }
            }
            // Nothing was claimed or completed.
            #expect(try conn.query("SELECT status FROM job_queue").scalar(String.self) == "pending")
        }
    }

    @Test func aHandlerConfigWithAnUnknownOrMistypedKeyIsRefusedAtStartup() throws {
        try TestDatabase.with { db in
            for (config, mentions) in [
                (#"{"handlers": {"slow": {"kind": "command", "argv": ["/bin/true"], "timeout": 2}}}"#, ["\"timeout\"", "\"slow\""]),
                (#"{"handlers": {"q": {"kind": "sql", "function": "app.f", "bulk": true}}}"#, ["\"bulk\"", "\"q\""]),
                (#"{"handlers": {"n": {"kind": "noop", "url": "http://x/"}}}"#, ["\"url\"", "\"n\""]),
                (#"{"handlers": {"s": {"kind": "simulate", "timeout_s": "30"}}}"#, ["\"timeout_s\"", "\"s\""]),
                (#"{"handlers": {"q": {"kind": "sql", "function": "app.f", "bulk_operation": "yes"}}}"#, ["\"bulk_operation\"", "\"q\""]),
                (#"{"circuit_breaker": {"failure_treshold": 3}, "handlers": {}}"#, ["\"failure_treshold\"", "circuit_breaker"]),
                (#"{"circuit_breaker": {"cool_down_s": "30"}, "handlers": {}}"#, ["\"cool_down_s\""]),
                (#"{"handlers": {}, "handler": {}}"#, ["\"handler\""]),
            ] {
                let path = try Self.temporaryFile(config, "workers.json")
                let r = try Self.queuetop(db, ["worker", "--config", path], timeout: 15)
                #expect(r.status == 1, "\(config) exited \(r.status): \(r.stderr)")
                for m in mentions { #expect(r.stderr.contains(m), "\(config): \(r.stderr)") }
            }
            // The allowlist key another part of the file reads is accepted with the handlers.
            let path = try Self.temporaryFile(#"{"alert_hook_secrets": ["SLACK_TOKEN"], "circuit_breaker": {"failure_threshold": 3, "cool_down_s": 5}, "handlers": {"n": {"kind": "noop", "timeout_s": 5}}}"#, "workers.json")
            let worker = try QueuetopBinary.start(["worker", "--config", path, "--db", db.conninfo], stderrLog: path + ".log")
            Thread.sleep(forTimeInterval: 2)
            #expect(worker.isRunning, "\((try? String(contentsOfFile: path + ".log", encoding: .utf8)) ?? "")")
            worker.terminate()
            worker.waitUntilExit()
        }
    }

    @Test func aCROrLFInAnAlertHookHeaderIsRefused() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            for (option, value) in [("--secret-prefix", "Bearer\r\nX-Evil: 1"), ("--secret-prefix", "a\nb"), ("--secret-header", "X-A\r\nX-B")] {
                var args = ["alerts", "hooks", "add", "h", "https://hooks.example.com/x", "--secret-header", "Authorization",
                            "--secret-env", "SLACK_TOKEN"]
                if option == "--secret-header" { args[6] = value } else { args += [option, value] }
                let r = try Self.queuetop(db, args)
                #expect(r.status == 1, "\(option) exited \(r.status): \(r.stderr)")
                #expect(r.stderr.contains(option), "\(r.stderr)")
            }
            // The database refuses it too, for clients other than this CLI.
            #expect(throws: (any Error).self) {
                try conn.query("SELECT add_alert_hook('h', 'https://hooks.example.com/x', 'Authorization', 'SLACK_TOKEN', E'Bearer\\r\\nX-Evil: 1')")
            }
            #expect(try conn.query("SELECT count(*)::int FROM alert_hooks").scalar(Int.self) == 0)
            let ok = try Self.queuetop(db, ["alerts", "hooks", "add", "h", "https://hooks.example.com/x", "--secret-header", "Authorization",
                                            "--secret-env", "SLACK_TOKEN", "--secret-prefix", "Bearer "])
            #expect(ok.status == 0, "\(ok.stderr)")
        }
    }
}

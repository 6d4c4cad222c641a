import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// `queuetop worker --log-format text|logfmt|json --log-level …`: one line per event, every
/// value escaped, job events with their fields (docs/OBSERVABILITY.md), from the real binary.
@Suite struct WorkerLogFormatTests {
    typealias Safety = OutputSafetyTests

    /// A tenant key as hostile as the database lets one be (it refuses control characters):
    /// a bidi override, a zero-width space, quotes, a space and an `=` that could fake a field.
    static let hostileTenant = "shop\u{202e}\u{200b} \"x\"=1 \\"

    /// Runs a worker on a hostile queue until a job whose type has no handler (its type, queue,
    /// tenant and error message hostile, one attempt) is dead-lettered and a noop job of tenant
    /// shop-9 completed; returns the worker's stderr and the two job ids.
    static func workerLog(_ db: TestDatabase, _ options: [String]) throws -> (log: String, dead: UUID, done: UUID) {
        let conn = try db.connect()
        defer { conn.close() }
        // A server notice quoting hostile text reaches the log too (the CLI's notices use it).
        try Safety.raiseHostileNoticeOnEveryJobUpdate(conn)
        let jobs = JobStore(connection: conn)
        let dead = try jobs.enqueue(NewJob(queue: Safety.evilName, type: Safety.evil, maxAttempts: 1, tenant: hostileTenant)).id
        let done = try jobs.enqueue(NewJob(queue: Safety.evilName, type: "noop", tenant: "shop-9")).id
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qt-logfmt-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let worker = try QueuetopBinary.start(["worker", "--queues", Safety.evilName, "--db", db.conninfo] + options, stderrLog: path)
        let deadline = Date().addingTimeInterval(20)
        func finished() throws -> Bool {
            try conn.query("SELECT count(*)::int FROM job_queue WHERE status IN ('dead_letter', 'completed')").scalar(Int.self) == 2
        }
        while Date() < deadline, try !finished() { Thread.sleep(forTimeInterval: 0.1) }
        Thread.sleep(forTimeInterval: 0.5)
        worker.terminate()
        worker.waitUntilExit()
        #expect(try finished())
        return ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "", dead, done)
    }

    @Test func jsonLinesParseAndJobEventsCarryTheirFields() throws {
        try TestDatabase.with { db in
            let (log, dead, done) = try Self.workerLog(db, ["--log-format", "json", "--log-level", "debug"])
            Safety.expectClean(log, "json worker log")
            var objects: [[String: Any]] = []
            for line in log.split(separator: "\n") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object != nil, "not a JSON object: \(line.debugDescription)")
                if let object {
                    #expect(object["time"] is String && object["level"] is String && object["msg"] is String, "\(object)")
                    objects.append(object)
                }
            }
            let failed = try #require(objects.first { $0["job_id"] as? String == dead.uuidString.lowercased() }, "\(log)")
            // The escapes decode back to the hostile strings exactly: escaped, not mangled.
            #expect(failed["queue"] as? String == Safety.evilName)
            #expect(failed["type"] as? String == Safety.evil)
            #expect(failed["attempt"] as? String == "1")
            #expect(failed["outcome"] as? String == "dead")
            #expect(failed["error_type"] as? String == "unknown_job_type")
            #expect((failed["error"] as? String)?.contains(Safety.evil) == true)
            #expect(failed["level"] as? String == "error")
            #expect(Double(failed["duration_ms"] as? String ?? "") != nil, "\(failed)")
            let completed = try #require(objects.first { $0["job_id"] as? String == done.uuidString.lowercased() }, "\(log)")
            #expect(completed["outcome"] as? String == "completed" && completed["level"] as? String == "debug")
            #expect(completed["type"] as? String == "noop" && completed["queue"] as? String == Safety.evilName)
            // The tenant (claim_jobs returns it since 0018): exact, and the hostile one decodes back intact.
            #expect(completed["tenant"] as? String == "shop-9", "\(completed)")
            #expect(failed["tenant"] as? String == Self.hostileTenant, "\(failed)")
            #expect(objects.contains { ($0["msg"] as? String)?.hasPrefix("server NOTICE") == true }, "\(log)")
        }
    }

    @Test func logfmtKeepsEachEventOnOneQuotedLine() throws {
        try TestDatabase.with { db in
            let (log, dead, _) = try Self.workerLog(db, ["--log-format", "logfmt"])
            Safety.expectClean(log, "logfmt worker log")
            for line in log.split(separator: "\n") {
                #expect(line.range(of: #"^time=\S+ level=(info|warning|error) msg="([^"\\]|\\.)*"( [A-Za-z0-9_.-]+=("([^"\\]|\\.)*"|[^" =]+))*$"#,
                                   options: .regularExpression) != nil, "not a logfmt line: \(line.debugDescription)")
            }
            let failed = try #require(log.split(separator: "\n").first { $0.contains("job_id=\(dead.uuidString.lowercased())") }, "\(log)")
            #expect(failed.contains("level=error") && failed.contains("outcome=dead") && failed.contains("error_type=unknown_job_type"))
            #expect(failed.contains("attempt=1 ") && failed.contains("duration_ms="), "\(failed)")
            // Quoted, with the ESC and the newline shown as escapes.
            #expect(failed.contains(#"type="\x1b]0;pwned\x07|"#) && failed.contains(#"|line\n2026"#), "\(failed)")
            // The tenant quoted, its quotes and backslash escaped, the bidi and zero-width
            // characters shown as escapes: it cannot fake a field.
            #expect(failed.contains(#"tenant="shop\u202e\u200b \"x\"=1 \\""#), "\(failed)")
        }
    }

    @Test func textIsOneLinePerEventWithFields() throws {
        try TestDatabase.with { db in
            let (log, dead, _) = try Self.workerLog(db, [])
            Safety.expectClean(log, "text worker log")
            for line in log.split(separator: "\n") {
                #expect(line.range(of: #"^\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-][0-9:]+) (INFO|WARNING|ERROR) "#, options: .regularExpression) != nil,
                        "not a log line: \(line.debugDescription)")
            }
            let failed = try #require(log.split(separator: "\n").first { $0.contains("job_id=\(dead.uuidString.lowercased())") }, "\(log)")
            #expect(failed.contains(" ERROR ") && failed.contains("to DLQ") && failed.contains("outcome=dead"), "\(failed)")
            // The default level is info (logLevelWarningDropsInfoLines drops these).
            #expect(log.contains(" INFO ") && log.contains("started"), "\(log)")
        }
    }

    @Test func logLevelWarningDropsInfoLines() throws {
        try TestDatabase.with { db in
            let (log, dead, _) = try Self.workerLog(db, ["--log-level", "warning"])
            #expect(!log.contains(" INFO "), "\(log)")
            #expect(!log.contains("started"), "\(log)")
            #expect(log.contains("job_id=\(dead.uuidString.lowercased())"), "\(log)")
        }
    }
}

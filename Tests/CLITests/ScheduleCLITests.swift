import Foundation
import Postgres
import TestSupport
import Testing

/// `queuetop schedule …` end to end: every bad input is one clear line, a non-zero exit, and
/// leaves the schedules table and audit log as they were.
@Suite struct ScheduleCLITests {
    @Test func badInputIsRefusedAndChangesNothing() throws {
        try TestDatabase.with { db in
            let env = ["DATABASE_URL": db.conninfo]
            let ok = try QueuetopBinary.run(["schedule", "add", "emails", "*/5 * * * *", "emails", "fetch_emails"], environment: env)
            #expect(ok.status == 0, "\(ok.stderr)")
            let conn = try db.connect()
            defer { conn.close() }
            func state() throws -> String {
                try conn.query("""
                    SELECT (SELECT string_agg(name || enabled::text || next_run_at::text, ',') FROM schedules)
                           || (SELECT count(*)::text FROM audit_log) || (SELECT count(*)::text FROM job_queue) AS s
                    """).scalar()
            }
            let before = try state()
            let cases: [([String], String)] = [
                (["schedule", "add", "x", "*/5 * * *", "q", "t"], "expected 5 fields"),
                (["schedule", "add", "x", "* 25 * * *", "q", "t"], "hour field \"25\": 25 is outside 0…23"),
                (["schedule", "add", "x", "* * * * *", "q", "t", "--payload", "{oops"], "not valid JSON"),
                (["schedule", "add", "emails", "* * * * *", "q", "t"], "schedule \"emails\" already exists"),
                (["schedule", "add", "x", "* * * * *", "q", "t", "--priority", "9999999"], "priority"),
                (["schedule", "enable", "nope"], "unknown schedule \"nope\""),
                (["schedule", "disable", "nope"], "unknown schedule \"nope\""),
                (["schedule", "run", "nope"], "unknown schedule \"nope\""),
                (["schedule", "delete", "nope"], "unknown schedule \"nope\""),
            ]
            for (arguments, expected) in cases {
                let r = try QueuetopBinary.run(arguments, environment: env)
                #expect(r.status != 0, "\(arguments) succeeded")
                #expect(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
                #expect(!r.stderr.contains("Fatal error"))
                #expect(try state() == before, "\(arguments) changed something")
            }
        }
    }

    @Test func listShowsNextRunAndDeleteRemovesIt() throws {
        try TestDatabase.with { db in
            let env = ["DATABASE_URL": db.conninfo]
            let empty = try QueuetopBinary.run(["schedule", "list"], environment: env)
            #expect(empty.status == 0 && empty.stdout.contains("no schedules"))
            _ = try QueuetopBinary.run(["schedule", "add", "nightly", "@daily", "reports", "build", "--payload", #"{"kind":"daily"}"#],
                                       environment: env)
            let json = try QueuetopBinary.run(["schedule", "list", "--json"], environment: env)
            let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(rows?.count == 1)
            #expect(rows?.first?["cron"] as? String == "@daily")
            #expect((rows?.first?["next_run_at"] as? String)?.hasSuffix("T00:00:00Z") == true)
            #expect((rows?.first?["payload"] as? [String: Any])?["kind"] as? String == "daily")
            let deleted = try QueuetopBinary.run(["schedule", "delete", "nightly"], environment: env)
            #expect(deleted.status == 0 && deleted.stdout.contains("deleted schedule nightly"))
            let after = try QueuetopBinary.run(["schedule", "list"], environment: env)
            #expect(after.stdout.contains("no schedules"))
        }
    }
}

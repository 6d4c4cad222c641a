import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// `queuetop dlq groups|ack|snooze|resolve|reopen|undo` and `requeue --group` from a shell
/// (docs/TRIAGE.md): what they print, what they refuse, and that a refusal changes nothing.
@Suite struct TriageCLITests {
    func run(_ args: [String], _ db: TestDatabase) throws -> (status: Int32, stdout: String, stderr: String) {
        try QueuetopBinary.run(args + ["--db", db.conninfo])
    }

    @Test func aFreeTextFamilyIsOneGroupThatIsTriagedRequeuedAndUndone() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("""
                SELECT fail_job(enqueue_job('orders', 'ship'), format('timeout after %s ms for order %s', 30000 + g, 81000 + g),
                                'timeout', NULL, false) FROM generate_series(1, 7) g
                """)
            let groups = try run(["dlq", "groups", "--json"], db)
            #expect(groups.status == 0, "\(groups.stderr)")
            let parsed = try JSONSerialization.jsonObject(with: Data(groups.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(parsed.count == 1)
            #expect(parsed.first?["pattern"] as? String == "timeout after <n> ms for order <n>")
            #expect(parsed.first?["count"] as? Int == 7 && parsed.first?["state"] as? String == "open")
            #expect(parsed.first?["new"] as? Bool == true)
            let group = try #require(parsed.first?["group"] as? String)

            #expect(try run(["dlq", "ack", group], db).status == 0)
            #expect(try run(["dlq", "resolve", group], db).stdout.contains("resolved \(group)"))
            let after = try run(["dlq", "groups", "--json"], db).stdout
            #expect(after.contains(#""state":"resolved""#) && after.contains(#""new":false"#), "\(after)")

            // Bad input: a clear error, non-zero, nothing changed.
            let audits: () throws -> Int = { try conn.query("SELECT count(*)::int FROM audit_log").scalar() }
            let before = try audits()
            for bad in [["dlq", "resolve", "orders"], ["dlq", "resolve", "orders/xyz"], ["dlq", "resolve", "orders/000000000000"],
                        ["dlq", "resolve", "nosuchqueue/000000000000"], ["dlq", "snooze", group],
                        ["dlq", "snooze", group, "--for", "-5m"], ["dlq", "undo", "999999", "--yes"],
                        ["dlq", "requeue", "--group", group, "--queue", "orders", "--yes"]] {
                let r = try run(bad, db)
                #expect(r.status != 0 && !r.stderr.isEmpty, "\(bad): \(r.stdout) \(r.stderr)")
            }
            #expect(try audits() == before)

            // Requeue the group: the sample goes to stderr, the result and the undo hint to stdout.
            let requeue = try run(["dlq", "requeue", "--group", group, "--yes"], db)
            #expect(requeue.status == 0, "\(requeue.stderr)")
            #expect(requeue.stderr.contains("sample of 5 of 7:"))
            #expect(requeue.stderr.split(separator: "\n").filter { $0.contains("timeout after") }.count == 5)
            #expect(requeue.stdout.contains("requeued 7 job(s)"))
            let auditID = try #require(requeue.stdout.split(separator: " ").last.flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            let undo = try run(["dlq", "undo", String(auditID), "--yes", "--json"], db)
            #expect(undo.status == 0, "\(undo.stderr)")
            #expect(undo.stdout.contains(#""undone":7"#))
            #expect(try conn.query("SELECT count(*)::int FROM job_queue WHERE status = 'dead_letter'").scalar(Int.self) == 7)
            let again = try run(["dlq", "undo", String(auditID), "--yes"], db)
            #expect(again.status != 0 && again.stderr.contains("already undone"))
        }
    }
}

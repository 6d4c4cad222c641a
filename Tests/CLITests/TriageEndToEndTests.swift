import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Issue 22 end to end, in a real terminal (tmux, 120×40) against the private Postgres: resolve a
/// fingerprinted group, watch it regress when it fails again, requeue it (the dialog shows the
/// sample), and undo the requeue from the audit screen.
@Suite(.serialized) struct TriageEndToEndTests {
    func fail(_ conn: Connection, _ n: Int, message: (Int) -> String, type: String = "timeout") throws -> [UUID] {
        let jobs = JobStore(connection: conn)
        return try (0..<n).map { i in
            let id = try jobs.enqueue(NewJob(queue: "orders", type: "ship")).id
            try jobs.failJob(id: id, message: message(i), errorType: type, retryable: false)
            return id
        }
    }

    @Test func resolveRegressRequeueAndUndo() throws {
        try TestDatabase.with { db in try scenario(db) }
    }

    func scenario(_ db: TestDatabase) throws {
        do {
            let conn = try db.connect()
            defer { conn.close() }
            var family = try fail(conn, 3) { "timeout after \(30_000 + $0 * 7) ms for order \(81_723 + $0)" }
            let other = try fail(conn, 2, message: { "refused by 'wh-\($0)'" }, type: "conn")
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys("3")
            // One group for the whole free-text family, biggest first, so the cursor is on it.
            let listed = tmux.waitFor(timeout: 15) {
                $0.contains("Dead-letter groups (2)") && $0.contains("timeout after <n> ms for order <n>") && $0.contains("NEW")
            }
            #expect(listed != nil, "the family is one fingerprinted group: \(tmux.screen())")
            guard listed != nil else { try tmux.keys("Q"); return }
            let fingerprint: String = try conn.query("SELECT error_fingerprint('timeout', 'timeout after 1 ms for order 1')").scalar()
            let key = DLQGroupKey(queue: "orders", fingerprint: fingerprint, errorType: "timeout")

            // Resolve it.
            try tmux.keys("x")
            #expect(tmux.waitFor(timeout: 15) { $0.contains("resolved") } != nil, "resolved: \(tmux.screen())")
            let deadline = Date().addingTimeInterval(15)
            while try DLQStore(connection: conn).groups().first?.lifecycle.state != .resolved, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.1)
            }
            #expect(try DLQStore(connection: conn).groups().first?.lifecycle.state == .resolved)

            // It fails again: the screen marks it REGRESSED by itself.
            family += try fail(conn, 1) { _ in "timeout after 29999 ms for order 5" }
            #expect(tmux.waitFor(timeout: 20) { $0.contains("REGRESSED") } != nil, "the regress mark appears: \(tmux.screen())")

            // Requeue it: the dialog shows the count and the sample.
            try tmux.keys("r")
            let prompt = Confirmation(action: .requeueGroup(key, resetAttempts: false, asOf: nil), count: 4).prompt
            let shown = tmux.waitFor(timeout: 15) { $0.contains(prompt) && $0.contains("Sample:") }
            #expect(shown != nil, "the confirmation shows the count and 4 sample jobs: \(tmux.screen())")
            guard shown != nil else { try tmux.keys("Escape"); try tmux.keys("Q"); return }
            try tmux.keys("y")
            var until = Date().addingTimeInterval(15)
            while try jobStatuses(conn, family) != ["pending"], Date() < until { Thread.sleep(forTimeInterval: 0.1) }
            #expect(try jobStatuses(conn, family) == ["pending"])
            #expect(try jobStatuses(conn, other) == ["dead_letter"])
            guard let requeue = try AuditStore(connection: conn).list(action: "dlq.requeue").first else {
                Issue.record("no requeue audited"); try tmux.keys("Q"); return
            }

            // Undo it from the audit screen: the requeue is the newest row.
            try tmux.keys("6")
            #expect(tmux.waitFor(timeout: 15) { $0.contains("dlq.requeue") } != nil)
            try tmux.keys("u")
            let undo = "Undo requeue #\(requeue.id)? 4 jobs not started yet go back to the DLQ as they were."
            let asked = tmux.waitFor(timeout: 15) { $0.contains(undo) }
            #expect(asked != nil, "the undo asks with the count: \(tmux.screen())")
            guard asked != nil else { try tmux.keys("Escape"); try tmux.keys("Q"); return }
            try tmux.keys("y")
            until = Date().addingTimeInterval(15)
            while try jobStatuses(conn, family) != ["dead_letter"], Date() < until { Thread.sleep(forTimeInterval: 0.1) }
            #expect(try jobStatuses(conn, family) == ["dead_letter"])
            #expect(try AuditStore(connection: conn).list(action: "dlq.undo").first?.affected == 4)

            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }
}

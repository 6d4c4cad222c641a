import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Cancelling a running job from the real dashboard (tmux, 120×40) while a real `queuetop worker`
/// runs it: `c` on the job in the Workers busy view asks, `y` cancels, the worker stops the
/// handler and the job view (`:job SHORT-ID`) shows it `cancelled (operator)`.
@Suite(.serialized) struct CancelDashboardTests {
    typealias W = WorkersCLITests

    @Test func cancelARunningJobFromTheBusyViewAndWatchItEndCancelled() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)"); return
        }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("qt-cancel-dash-\(UUID()).log").path
            // A simulated job of 120 s: only a cancel ends it within the test.
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "cq", type: "simulate",
                payload: JSONText(#"{"latency_ms": {"p50": 120000, "p99": 120000}, "max_ms": 120000}"#)))
            let (worker, _) = try W.startWorker(db, conn, queue: "cq", log: log)
            defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL); worker.waitUntilExit() } }
            #expect(W.eventually(timeout: 20) { (try? W.status(conn, "cq"))?["processing"] == 1 })
            let id: UUID = try conn.query("SELECT id FROM job_queue WHERE status = 'processing'").scalar()
            let short = ShortJobID.of(id)

            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys("5")
            #expect(tmux.waitFor(timeout: 15) { $0.contains(short) } != nil, "the busy view lists the job: \(tmux.screen())")
            try tmux.keys("Enter")
            try tmux.keys("c")
            let prompt = Confirmation(action: .cancelRunningJob(id, label: "simulate job \(short) on cq"), count: 1).prompt
            #expect(tmux.waitFor(timeout: 15) { $0.contains(prompt) } != nil, "no confirmation '\(prompt)': \(tmux.screen())")
            try tmux.keys("y")
            #expect(W.eventually(timeout: 20) {
                (try? conn.query("SELECT status || ' ' || coalesce(cancel_reason, '') FROM job_queue WHERE id = \(id)").scalar(String.self)) == "cancelled operator"
            }, "the worker stopped the job: \(tmux.screen())")
            #expect(try W.audits(conn, "job.cancel").count == 1)

            // The job view, opened by its short id, shows how it ended.
            try tmux.keys(":")
            try tmux.type("job \(short)")
            try tmux.keys("Enter")
            #expect(tmux.waitFor(timeout: 15) { $0.contains(id.uuidString.lowercased()) && $0.contains("cancelled (operator)") } != nil,
                    "the job view shows it cancelled: \(tmux.screen())")
            let final = try W.status(conn, "cq")
            #expect(final == ["cancelled": 1], "not run again: \(final) \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            try tmux.keys("Q")
        }
    }
}

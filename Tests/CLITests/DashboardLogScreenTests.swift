import Foundation
import Postgres
import TestSupport
import Testing

/// The Log screen (8) of the real dashboard (tmux, 120×40): the embedded pool's events appear,
/// Enter on a job's line opens the job, and a pool that cannot start says why in the footer and
/// on the Log screen instead of the dashboard refusing to start or the reason being lost.
@Suite(.serialized) struct DashboardLogScreenTests {
    @Test func aFailingHandlersErrorIsOnTheLogScreenAndEnterOpensTheJob() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)"); return
        }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // No handler for this type: its only attempt fails and the job goes to the DLQ.
            let id: UUID = try conn.query("SELECT enqueue_job('lq', 'nohandler', '{}'::jsonb, 0, null, null, 1)").scalar()
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --queues lq")
            try tmux.keys("8")
            let short = String(id.uuidString.lowercased().prefix(8))
            let shown = tmux.waitFor(timeout: 20) { $0.contains("Worker log") && $0.contains(short) && $0.contains("unknown_job_type") }
            #expect(shown != nil, "the handler's error is on the Log screen: \(tmux.screen())")
            // Each field once: the job's line has its id, queue and type in their columns and
            // the whole error in the message, not the message's copy of the full id.
            let line = shown?.split(separator: "\n").first { $0.contains(short) }.map(String.init) ?? ""
            #expect(line.contains("nohandler") && line.contains("DLQ unknown_job_type: no handler is configured for job type 'nohandler'"),
                    "\(line)")
            #expect(!line.contains(id.uuidString.lowercased()), "\(line)")
            // Narrow to the job's line with the `/` filter, then Enter opens the job.
            try tmux.keys("/")
            try tmux.type(short)
            try tmux.keys("Enter")
            try tmux.keys("Enter")
            #expect(tmux.waitFor(timeout: 15) { $0.contains(id.uuidString.lowercased()) && $0.contains("dead_letter") } != nil,
                    "Enter opened the job: \(tmux.screen())")
            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }

    @Test func aStartUpErrorOfTheEmbeddedPoolIsInTheFooterAndOnTheLogScreen() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)"); return
        }
        try TestDatabase.with { db in
            let config = FileManager.default.temporaryDirectory.appendingPathComponent("qt-badconfig-\(UUID()).json").path
            try Data(#"{"handlers": {"mail": {"kind": "http"}}, "bogus": 1}"#.utf8).write(to: URL(fileURLWithPath: config))
            defer { try? FileManager.default.removeItem(atPath: config) }
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --config '\(config)'")
            #expect(tmux.waitFor(timeout: 20) { $0.contains("WORKERS NOT STARTED: bad worker config") } != nil,
                    "the footer says why the workers did not start: \(tmux.screen())")
            try tmux.keys("8")
            #expect(tmux.waitFor(timeout: 15) { $0.contains("Worker log") && $0.contains("ERROR") && $0.contains("embedded workers did not start: bad worker config") } != nil,
                    "the Log screen has the start-up error: \(tmux.screen())")
            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }
}

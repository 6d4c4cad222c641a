import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The Workers screen of the real dashboard (tmux, 120×40) steering a real `queuetop worker`:
/// the busy view lists what it runs, Enter opens a job, and p / d quiet, resume and drain it,
/// each through a confirmation and each audited.
@Suite(.serialized) struct WorkersDashboardTests {
    typealias W = WorkersCLITests

    @Test func busyViewOpensAJobAndQuietResumeDrainRoundTrip() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)"); return
        }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("qt-workerctl-dash-\(UUID()).log").path
            try W.enqueue(conn, "dq", count: 2, ms: 4000)
            let (worker, id) = try W.startWorker(db, conn, queue: "dq", log: log)
            defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL); worker.waitUntilExit() } }
            #expect(W.eventually(timeout: 20) { (try? W.status(conn, "dq"))?["processing"] == 2 })
            let held: [UUID] = try conn.query("SELECT id FROM job_queue WHERE status = 'processing' ORDER BY started_at, id")
                .map { try $0.decode(0) }
            let host: String = try conn.query("SELECT host FROM workers WHERE id = \(id)").scalar()
            let label = "worker \(host) pid \(worker.processIdentifier)"

            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys("5")
            let short = ShortJobID.of(held[0])
            #expect(tmux.waitFor(timeout: 15) { $0.contains("In flight on \(label) (2 jobs)") && $0.contains(short) } != nil,
                    "the busy view lists the worker's jobs: \(tmux.screen())")

            // Enter: into the worker's jobs; Enter again: the job itself, in the job view.
            try tmux.keys("Enter")
            try tmux.keys("Enter")
            #expect(tmux.waitFor(timeout: 15) { $0.contains(held[0].uuidString.lowercased()) && $0.contains("processing") } != nil,
                    "Enter opened the job: \(tmux.screen())")
            try tmux.keys("Escape")
            try tmux.keys("Escape")

            func act(_ key: String, _ kind: WorkerCommandKind) -> Bool {
                try? tmux.keys(key)
                let prompt = Confirmation(action: .commandWorker(kind, workerID: id, label: label), count: 1).prompt
                guard tmux.waitFor(timeout: 15, { $0.contains(prompt) }) != nil else {
                    Issue.record("no confirmation '\(prompt)': \(tmux.screen())")
                    try? tmux.keys("Escape")
                    return false
                }
                try? tmux.keys("y")
                return W.eventually(timeout: 15) { ((try? W.audits(conn, "\(kind.rawValue)_workers").count) ?? 0) == 1 }
            }

            #expect(act("p", .quiet), "quiet was confirmed and audited")
            #expect(try W.audits(conn, "quiet_workers").map(\.affected) == [1])
            #expect(tmux.waitFor(timeout: 15) { $0.split(separator: "\n").contains { $0.contains("\(worker.processIdentifier)") && $0.contains("quiet") } } != nil,
                    "the worker's row says quiet: \(tmux.screen())")
            try W.enqueue(conn, "dq", count: 2, ms: 10)
            #expect(W.eventually(timeout: 20) { (try? W.status(conn, "dq"))?["completed"] == 2 }, "the held jobs finished")
            Thread.sleep(forTimeInterval: 3)
            #expect(try W.status(conn, "dq") == ["completed": 2, "pending": 2], "quiet: nothing new claimed")

            #expect(act("p", .resume), "resume was confirmed and audited")
            #expect(W.eventually(timeout: 20) { (try? W.status(conn, "dq"))?["completed"] == 4 }, "claims again")

            try W.enqueue(conn, "dq", count: 1, ms: 2000)
            #expect(W.eventually(timeout: 20) { (try? W.status(conn, "dq"))?["processing"] == 1 })
            #expect(act("d", .drain), "drain was confirmed and audited")
            #expect(W.eventually(timeout: 30) { !worker.isRunning }, "the drained worker exited")
            worker.waitUntilExit()
            #expect(worker.terminationStatus == 0)
            #expect(try W.status(conn, "dq") == ["completed": 5])
            #expect(tmux.waitFor(timeout: 15) { $0.split(separator: "\n").contains { $0.contains("\(worker.processIdentifier)") && $0.contains("stopped") } } != nil)

            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Real `queuetop worker` processes and links that stop answering (docs/RELIABILITY.md,
/// "Liveness"). Every wait has its own bound, so a worker that hangs fails the test.
extension PoolTests {
@Suite("liveness: frozen links lose nothing")
struct FrozenLinkWorkerTests {
    /// A worker draining jobs through a proxy that freezes for longer than the liveness bound
    /// mid-drain, then thaws: the worker notices within the bound (it used to sit on its reads),
    /// reconnects, and every job ends completed: none lost, none left processing. Duplicates
    /// (at-least-once) are counted and reported, not hidden.
    @Test func aWorkerThroughALinkFrozenMidDrainLosesNoJob() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        let jobs = 3_000
        let link = try ProxiedCluster(prefix: "liveness-worker")
        defer { link.destroy() }
        let setup = try link.direct()
        defer { setup.close() }
        try PoolFixture.prepare(setup)
        // Visibility 20 s: jobs whose claim answer was lost in the freeze are rescued soon
        // after; rescues count attempts, so max_attempts is high (ChaosTests' queue).
        try ChaosTests.makeQueue(setup, "frozen", visibility: 20)
        try PoolFixture.enqueue(setup, queue: "frozen", type: "ledger", count: jobs, extra: #","sleep_s":0.002"#)
        let (dir, config) = try PoolFixture.ledgerWorkerConfig()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("worker.log").path
        let worker = try PoolFixture.spawnWorker(conninfo: link.conninfo, queues: ["frozen"], config: config, log: log,
                                                 concurrency: 8, batch: 20)
        defer { PoolFixture.stopWorker(worker, timeout: 10) }

        #expect(try PoolFixture.eventually(timeout: 120) { try PoolFixture.count(setup, "SELECT count(*)::int FROM ledger") >= jobs / 5 },
                "the worker drains through the proxy")
        // Long enough for the idle listener too: its check goes out after at most 5 s of
        // silence, then waits the bound.
        let freezeFor = Liveness.defaultTimeout + 12
        link.proxy.freeze()
        let frozen = Date()
        let doneAtFreeze = try PoolFixture.count(setup, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'")
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        let logAtFreeze = logText().count
        let noticed = PoolFixture.eventually(timeout: freezeFor) { logText().dropFirst(logAtFreeze).contains("no answer from the server") }
        let noticedAfter = Date().timeIntervalSince(frozen)
        #expect(noticed && noticedAfter <= FrozenLinkBound.seconds, "the worker noticed after \(noticedAfter) s: \(logText().dropFirst(logAtFreeze).prefix(2000))")
        // The listener waits for NOTIFY and sends nothing: only its idle check can notice.
        let listenerNoticed = PoolFixture.eventually(timeout: max(0, freezeFor - Date().timeIntervalSince(frozen))) {
            logText().dropFirst(logAtFreeze).split(separator: "\n").contains { $0.contains("listener:") && $0.contains("no answer from the server") }
        }
        let listenerAfter = Date().timeIntervalSince(frozen)
        #expect(listenerNoticed, "the idle listener noticed the frozen link (after \(listenerAfter) s)")
        if Date().timeIntervalSince(frozen) < freezeFor { Thread.sleep(forTimeInterval: freezeFor - Date().timeIntervalSince(frozen)) }
        link.proxy.thaw()
        let thawed = Date()

        let finished = try PoolFixture.eventually(timeout: 240) { try ChaosTests.outcome(setup, queue: "frozen").completed == jobs }
        let finishedAfter = Date().timeIntervalSince(thawed)
        let o = try ChaosTests.outcome(setup, queue: "frozen")
        #expect(finished, "every job completed after the thaw: \(o)")
        #expect(o.distinctRuns == jobs, "every job ran")
        #expect(o.notFinished == 0 && o.dead == 0, "none left pending/processing or dead: \(o)")
        #expect(worker.isRunning, "the worker stayed up")
        print("LIVENESS | worker, link frozen \(Int(freezeFor)) s mid-drain (\(doneAtFreeze) of \(jobs) done) | noticed after \(String(format: "%.1f", noticedAfter)) s, listener \(String(format: "%.1f", listenerAfter)) s | all done \(String(format: "%.1f", finishedAfter)) s after the thaw | runs \(o.runs) | lost \(jobs - o.distinctRuns) | duplicated \(o.duplicated) | stuck \(o.notFinished)")
    }

    /// A sql handler job that legitimately runs longer than the liveness bound (here 2 s through
    /// QUEUETOP_LIVENESS_TIMEOUT; the job sleeps 5 s under the handler's 10 s timeout) completes:
    /// the wait for its answer is the statement timeout plus the bound, not the bound.
    @Test func aSQLJobLongerThanTheLivenessBoundStillCompletes() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            try conn.execute("INSERT INTO queues (name, max_attempts) VALUES ('long_sql', 1)")
            try PoolFixture.enqueue(conn, queue: "long_sql", type: "ledger", count: 1, extra: #","sleep_s":5"#)
            let (dir, config) = try PoolFixture.ledgerWorkerConfig()
            defer { try? FileManager.default.removeItem(at: dir) }
            let log = dir.appendingPathComponent("worker.log").path
            let worker = try QueuetopBinary.start(["worker", "--queues", "long_sql", "--config", config],
                                                  environment: ["DATABASE_URL": db.conninfo, Liveness.environmentVariable: "2"],
                                                  stderrLog: log)
            defer { PoolFixture.stopWorker(worker, timeout: 10) }
            let done = try PoolFixture.eventually(timeout: 60) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'long_sql' AND status IN ('completed', 'dead_letter')") == 1
            }
            let status: String? = try conn.query("SELECT status FROM job_queue WHERE queue = 'long_sql'").scalar()
            let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(done && status == "completed", "status \(status ?? "-"); log: \(logText.suffix(2000))")
            #expect(!logText.contains("no answer from the server"), "the long statement was not cut: \(logText.suffix(2000))")
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") == 1, "it ran once")
        }
    }
}

}

enum FrozenLinkBound {
    /// The default liveness bound plus a generous margin for a loaded 2-core machine.
    static let seconds = Liveness.defaultTimeout + 10
}

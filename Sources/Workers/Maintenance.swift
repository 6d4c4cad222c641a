import Foundation
import Postgres
import QueueStore

/// Retention that runs by itself. Every pool asks the database whether the retention run is due
/// (claim_maintenance, migration 0005); at most one worker per interval, across every host,
/// wins and prunes, in short batches. The schedule lives in the database (maintenance_tasks), so
/// all workers agree on it and an operator changes it in one place.
extension WorkerPool {
    /// Longest sleep between two checks, so a shortened interval or a re-enabled task is seen
    /// within a minute.
    static let longestMaintenanceCheck: TimeInterval = 60

    /// Body of the "retention" thread. A thread of its own, not a step of the 1 s maintenance
    /// loop: a first run over millions of old rows takes minutes, and lease heartbeats must not
    /// wait for it. Holds no connection between checks (a check is once a minute at most).
    func retentionLoop() {
        let slot = threadConnection("retention")
        let stop = { self.isStopping }
        // Pools started together (a deploy) do not all ask in the same instant.
        var wait = Double.random(in: 0.1...2)
        while !isStopping {
            interruptibleSleep(wait, stop: stop)
            if isStopping { break }
            do {
                let outcome = try slot.run(stop: stop) {
                    try MaintenanceStore(connection: $0).runRetentionIfDue(worker: id, shouldStop: stop)
                }
                if let run = outcome.run, run.jobsPruned + run.operationsPruned > 0 || !run.finished {
                    log(.info, "retention: pruned \(run.jobsPruned) finished job(s) and \(run.operationsPruned) finished "
                        + "bulk operation(s) in \(run.batches) batch(es)" + (run.finished ? "" : "; stopped before the end"))
                }
                wait = min(max(outcome.claim.nextCheckSeconds, 1), Self.longestMaintenanceCheck)
            } catch {
                // The slot logged it and backed off; a run cut short is taken over once stale.
                wait = Self.longestMaintenanceCheck / 2
            }
            slot.drop()
        }
        slot.drop()
    }
}

import Foundation
import Postgres
import QueueStore

/// A worker vacuums job_queue itself after it has claimed `vacuumAfterClaims` jobs.
///
/// Why: a claim walks job_queue_claim_idx from the head of its queue (oldest run_at first), and
/// every row claimed since the last VACUUM still has an entry there, dead for the claim (the
/// index is `WHERE status = 'pending'`). PostgreSQL skips those entries without visiting the
/// heap once they are marked dead, but it still reads their index pages, so each claim costs
/// more the more was claimed since the last VACUUM: about 4 ms per claim of 200 after 300 k
/// claims, 0.3 ms after a VACUUM (EXPLAIN ANALYZE, docs/BENCHMARKS.md). Autovacuum wakes at
/// most once per `autovacuum_naptime` (1 min by default), so under a steady producer the head
/// grows for a minute and the worker falls behind.
///
/// The cost is bounded: VACUUM does not block claims, enqueues or completions (it takes
/// SHARE UPDATE EXCLUSIVE), SKIP_LOCKED makes concurrent vacuums of the table (autovacuum's, or
/// another worker's) skip instead of wait, and the next one waits at least nine times as long
/// as the last took, so on a big table it uses at most about a tenth of one backend's time.
/// Roles that may not VACUUM the table (queuetop_worker, which owns nothing) leave it to
/// autovacuum; the thread then ends.
///
/// Off by default (`--vacuum-after 0`): every VACUUM with index cleanup reads each of
/// job_queue's indexes in full, cheap on a queue-sized table, heavy I/O as a default on a table
/// that keeps millions of finished rows. (A chaos-test failure once blamed on it — slow pickup
/// after a PostgreSQL restart — came back with it off: it was the other worker's circuit breaker
/// still open; ChaosTests now waits for the shared breaker row to close.)
extension WorkerPool {
    func vacuumLoop() {
        let every = configuration.vacuumAfterClaims
        guard every > 0 else { return }
        let slot = threadConnection("vacuum")
        let stop = { self.isStopping }
        var checkedRole = false
        var claimedAtLast = 0
        var notBefore = Date()
        while !isStopping {
            interruptibleSleep(0.25, stop: stop)
            let claimed = claimedTotal.load(ordering: .relaxed)
            guard !isStopping, claimed - claimedAtLast >= every, Date() >= notBefore else { continue }
            do {
                if !checkedRole {
                    let may = try slot.run(stop: stop) { try QueueVacuumStore(connection: $0).mayVacuum() }
                    checkedRole = true
                    if !may {
                        log(.info, "vacuum: this role may not VACUUM job_queue; leaving it to autovacuum")
                        break
                    }
                }
                let started = Date()
                try slot.run(stop: stop) { try QueueVacuumStore(connection: $0).vacuum() }
                let took = Date().timeIntervalSince(started)
                claimedAtLast = claimed
                notBefore = Date().addingTimeInterval(max(1, took * 9))
            } catch {
                continue  // the slot logged it and backed off
            }
        }
        slot.drop()
    }
}

import Foundation
import Postgres
import QueueStore

/// The schedule ticker: one thread per worker process. Every process ticks; the database makes
/// sure each tick enqueues exactly once (ScheduleStore.tick: FOR UPDATE SKIP LOCKED, next_run_at
/// advanced in the enqueue's transaction), so there is no leader to elect or fail over.
extension WorkerPool {
    /// Longest sleep between looks: a schedule added or enabled elsewhere is noticed within it.
    static let scheduleLookInterval: TimeInterval = 1

    func scheduleLoop() {
        let slot = threadConnection("schedules")
        let stop = { self.isStopping }
        guard awaitMigration(slot: slot, feature: "schedules", { try ScheduleStore(connection: $0).isInstalled() }) else {
            slot.drop()
            return
        }
        while !isStopping {
            let wait: Double?
            do {
                let (fired, untilNext) = try slot.run(stop: stop) { try ScheduleStore(connection: $0).tick() }
                for f in fired where f.outcome.hasPrefix("error") || f.outcome.hasPrefix("disabled") {
                    log(.warning, "schedule \(f.name): \(f.outcome)")
                }
                wait = untilNext
            } catch {
                continue  // the slot logged and backed off
            }
            // Wake just after the next tick is due (a few ms late is harmless: the tick is what
            // is due, not the wall clock), never sleeping longer than the look interval.
            interruptibleSleep(min(Self.scheduleLookInterval, max(0.01, (wait ?? .infinity) + 0.005)), stop: stop)
        }
        slot.drop()
    }
}

extension WorkerPool {
    /// Waits until `installed` says the feature's migration is applied, checking every 30 s, so a
    /// worker on a database not yet migrated to 0008 logs one line instead of an error a second
    /// and starts the feature once `queuetop migrate` has run. False when the pool stops first.
    func awaitMigration(slot: ManagedConnection, feature: String, _ installed: (Connection) throws -> Bool) -> Bool {
        var warned = false
        while !isStopping {
            do {
                if try slot.run(stop: { self.isStopping }, installed) { return true }
            } catch {
                continue  // the database is unreachable: the slot logged and backed off
            }
            if !warned {
                log(.warning, "\(feature) are off: this database lacks migration 0008 (run `queuetop migrate`); checking again every 30 s")
                warned = true
            }
            interruptibleSleep(30, stop: { self.isStopping })
        }
        return false
    }
}

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
        let slot = DatabaseSlot(config: configuration.database, label: "schedules", log: log)
        let stop = { self.isStopping }
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
        slot.close()
    }
}

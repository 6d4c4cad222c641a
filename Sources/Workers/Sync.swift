import Foundation
import Synchronization

/// A wake-up flag threads can wait on with a timeout. Firing while nobody waits is remembered,
/// so a notification that arrives during a claim makes the next wait return at once.
///
/// Executors fire the fetcher's and the completer's signals after every job, thousands of
/// times a second, while those threads are mostly busy in a round trip. A fire that finds the
/// flag already set has nothing to add, so it returns without taking the lock: with hundreds of
/// executors, the lock and the futex wake-ups it caused were most of the pool's CPU (perf).
/// Both sides use sequentially consistent operations on `pending`, so a fire skipped because
/// the flag was set is covered by the wait that consumes it: that waiter returns and then sees
/// whatever state change the skipped fire announced.
final class WakeSignal: @unchecked Sendable {  // `fired`/`closed` guarded by `condition`
    private let condition = NSCondition()
    private let pending = Atomic<Bool>(false)  // mirrors `fired`, readable without the lock
    private var fired = false
    private var closed = false

    func fire() {
        if pending.load(ordering: .sequentiallyConsistent) { return }
        condition.lock()
        fired = true
        pending.store(true, ordering: .sequentiallyConsistent)
        condition.signal()
        condition.unlock()
    }

    /// Wakes every waiter now and makes every later wait return at once (shutdown).
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Returns true when fired, false on timeout.
    @discardableResult
    func wait(timeout: TimeInterval) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while !fired && !closed {
            if !condition.wait(until: deadline) { break }
        }
        let wasFired = fired || closed
        fired = false
        pending.store(false, ordering: .sequentiallyConsistent)
        return wasFired
    }
}

/// Claimed jobs waiting for an executor thread. FIFO, so claim order (priority) is kept.
///
/// Wake-ups are chained: push wakes one idle executor, and an executor that takes a job wakes
/// the next while jobs and idle executors remain. A broadcast per batch woke every idle executor
/// (hundreds) from the fetcher's thread, which then spent most of its time in futex calls
/// instead of claiming (perf); with a chain the fetcher pays one wake-up per batch, the wake-ups
/// are spread over the executors, and an executor that finishes quickly takes the next job
/// itself instead of another thread being woken for it.
final class WorkQueue: @unchecked Sendable {  // all state guarded by `condition`
    private let condition = NSCondition()
    private var items: [WorkerJob] = []
    private var head = 0
    private var closed = false
    private var idle = 0  // executors blocked in pop()

    func push(_ jobs: [WorkerJob]) {
        guard !jobs.isEmpty else { return }
        condition.lock()
        items.append(contentsOf: jobs)
        if idle > 0 { condition.signal() }
        condition.unlock()
    }

    /// Blocks until a job is available; nil once the queue is closed and empty.
    func pop() -> WorkerJob? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed {
            idle += 1
            condition.wait()
            idle -= 1
        }
        guard head < items.count else { return nil }
        let job = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        if head < items.count && idle > 0 { condition.signal() }  // more work: wake the next executor
        return job
    }

    /// Takes every job not yet started (shutdown releases them without running them).
    func drainAll() -> [WorkerJob] {
        condition.lock()
        defer { condition.unlock() }
        let rest = Array(items[head...])
        items.removeAll()
        head = 0
        return rest
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Sleeps up to `seconds`, returning early when `stop` says so (checked every 50 ms).
func interruptibleSleep(_ seconds: TimeInterval, stop: () -> Bool) {
    let deadline = Date().addingTimeInterval(seconds)
    while !stop() {
        let left = deadline.timeIntervalSinceNow
        if left <= 0 { return }
        usleep(useconds_t(min(left, 0.05) * 1_000_000))
    }
}

import Foundation

/// A wake-up flag threads can wait on with a timeout. Firing while nobody waits is remembered,
/// so a notification that arrives during a claim makes the next wait return at once.
final class WakeSignal: @unchecked Sendable {  // all state guarded by `condition`
    private let condition = NSCondition()
    private var fired = false
    private var closed = false

    func fire() {
        condition.lock()
        fired = true
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
        return wasFired
    }
}

/// Claimed jobs waiting for an executor thread. FIFO, so claim order (priority) is kept.
final class WorkQueue: @unchecked Sendable {  // all state guarded by `condition`
    private let condition = NSCondition()
    private var items: [WorkerJob] = []
    private var head = 0
    private var closed = false

    func push(_ jobs: [WorkerJob]) {
        guard !jobs.isEmpty else { return }
        condition.lock()
        items.append(contentsOf: jobs)
        if jobs.count == 1 { condition.signal() } else { condition.broadcast() }
        condition.unlock()
    }

    /// Blocks until a job is available; nil once the queue is closed and empty.
    func pop() -> WorkerJob? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let job = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count { items.removeFirst(head); head = 0 }
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

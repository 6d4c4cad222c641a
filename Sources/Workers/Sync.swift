import Foundation
import Glibc
import Synchronization
import QueueStore

/// A mutex for state that hundreds of executor threads touch once or twice per job (the ledger,
/// the pool's shared state). Same shape as `Mutex.withLock`, different lock underneath.
///
/// `Synchronization.Mutex` is a priority-inheritance futex on Linux: under contention every
/// unlock hands the lock to a sleeping waiter, which must be scheduled before anyone can go on,
/// so 400 executors finishing no-op jobs formed a convoy (perf: a third of the worker's samples
/// in `Mutex._lockSlow`, most of the rest in futex wake-ups and context switches, and about
/// 57 µs of worker CPU per job). glibc's adaptive mutex spins briefly before sleeping and lets a
/// running thread take a released lock, which is what short critical sections want.
final class SpinningLock<Value>: @unchecked Sendable {  // `value` guarded by `mutex`
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

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

/// Wakes every waiter at once: executors holding a job they may not start yet (the
/// at-least-once window is full) all look again when the completer commits results. Read
/// `generation` before checking the condition, so a fire in between is never missed.
final class BroadcastSignal: @unchecked Sendable {  // `generation` guarded by `condition`
    private let condition = NSCondition()
    private var generation = 0

    var current: Int { condition.lock(); defer { condition.unlock() }; return generation }

    func fire() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until a fire after `seen` (a `current` value), or the timeout.
    func wait(after seen: Int, timeout: TimeInterval) {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while generation == seen {
            if !condition.wait(until: deadline) { break }
        }
    }
}

/// Claimed jobs waiting for an executor thread. FIFO, so claim order (priority) is kept.
///
/// At most one wake-up is in flight: push, or an executor that takes a job while more wait,
/// wakes one idle executor only when no other woken executor is still on its way (`wakeToken`).
/// That executor takes a job and passes the token on if jobs remain, so a batch reaches as many
/// idle executors as it needs, one wake-up latency apart, while executors coming back from a
/// short job take the next one without anybody being woken for it.
///
/// Before, every pop that left jobs behind woke another executor and the fetcher broadcast to
/// every idle one (hundreds): with short jobs most of the pool's CPU went to futex wake-ups and
/// context switches (perf; about two context switches per no-op job with a wake per pop).
final class WorkQueue: @unchecked Sendable {  // all state guarded by `condition`
    private let condition = NSCondition()
    private var items: [WorkerJob] = []
    private var head = 0
    private var closed = false
    private var idle = 0  // executors blocked in pop()
    private var wakeToken = false  // an idle executor was signalled and has not taken a job yet

    func push(_ jobs: [WorkerJob]) {
        guard !jobs.isEmpty else { return }
        condition.lock()
        items.append(contentsOf: jobs)
        wakeOneIfNeeded()
        condition.unlock()
    }

    /// Blocks until a job is available; nil once the queue is closed and empty.
    func pop() -> WorkerJob? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed {
            idle += 1
            while !wakeToken && !closed { condition.wait() }  // spurious wake-ups wait again
            wakeToken = false
            idle -= 1
        }
        guard head < items.count else { return nil }
        let job = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        wakeOneIfNeeded()
        return job
    }

    /// Caller holds the lock.
    private func wakeOneIfNeeded() {
        guard head < items.count, idle > 0, !wakeToken else { return }
        wakeToken = true
        condition.signal()
    }

    /// Drops these jobs if still queued (the fetcher released them: they waited too long).
    func remove(_ ids: Set<JobID>) {
        guard !ids.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        items = items[head...].filter { !ids.contains($0.id) }
        head = 0
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

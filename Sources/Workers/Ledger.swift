import Foundation
import Synchronization
import QueueStore
import Postgres

/// Where every claimed job is until its outcome is committed. A job leaves the ledger only when
/// complete_jobs / fail_jobs / release_jobs succeeded, so nothing in memory is ever dropped: a
/// flush that fails puts its results back for the next try.
///
/// Times are `DispatchTime` uptime nanoseconds (monotonic): when a job was claimed and when its
/// handler started, for the prefetch buffer's bound (Prefetch.swift) and the handler pace.
final class Ledger: Sendable {
    enum Phase: Sendable, Equatable { case claimed, running, finished }

    struct Entry: Sendable {
        var job: WorkerJob
        var phase: Phase
        var leaseRenewedAt: Date
        var cancellation: CancellationFlag
        var claimedAt: UInt64
        var startedAt: UInt64 = 0
    }

    struct Completion: Sendable { var id: JobID; var processingMs: Int; var result: String? = nil }

    struct Counters: Sendable {
        var processed = 0
        var failed = 0
        var perQueueProcessed: [String: Int] = [:]
        var perQueueFailed: [String: Int] = [:]
    }

    private struct State: Sendable {
        var entries: [JobID: Entry] = [:]
        var slotsInUse = 0  // claimed + running
        var waiting = 0  // claimed, handler not started (the prefetch buffer)
        var running = 0  // handler started, not finished
        var pace = HandlerPace()
        var finishedUnwritten = 0  // handled, result not yet committed
        var completions: [Completion] = []
        /// When the results being written now were taken (0: no write in flight).
        var writingSince: UInt64 = 0
        var failures: [JobFailure] = []
        var counters = Counters()
    }

    private let state = SpinningLock(State())

    /// Reserves up to `limit` free slots of `capacity` before a claim, so several claimer threads
    /// never hold more than `capacity` jobs together. Returns 0 when fewer than `minimum` are free.
    ///
    /// Once `maxUnwritten` handled results are not committed yet, nothing is claimed until the
    /// completer catches up: a slow database slows claiming instead of piling up claimed jobs.
    /// One exception keeps a fast drain's pipeline full: while a write is in flight that began
    /// after `writeStartedAfter` (the database answers quickly) and the buffer is nearly empty
    /// (fewer than `minimum` jobs wait), the next batch is claimed during the write. Without it a
    /// drain claimed only after its buffer ran dry: executors refill the window the moment a
    /// commit empties it, before the fetcher thread is even scheduled, so claims and writes took
    /// turns. It does not cap the claim's size: what a crash can run twice is bounded where
    /// handlers start (`tryStart`'s window), jobs claimed but not started never ran, and
    /// `capacity` bounds what is held.
    func reserve(upTo limit: Int, capacity: Int, minimum: Int, maxUnwritten: Int,
                 writeStartedAfter: UInt64 = .max) -> Int {
        state.withLock { s in
            let claimAhead = s.waiting < minimum && s.writingSince != 0 && s.writingSince > writeStartedAfter
            guard s.finishedUnwritten < maxUnwritten || claimAhead else { return 0 }
            let free = capacity - s.slotsInUse
            guard free >= minimum, free > 0 else { return 0 }
            let n = min(limit, free)
            s.slotsInUse += n
            return n
        }
    }

    /// The claim for `reserved` slots returned `jobs` (at most that many); the rest are freed.
    /// Returns the jobs to hand to the executors: those this pool did not hold already.
    ///
    /// A job can come back while still held when a server crash lost the claim (claim_jobs
    /// commits without waiting for its WAL flush, docs/WORKERS.md "The window"): the job is
    /// pending again and this worker claims it anew under the same worker id. The entry already
    /// here (buffered, running, or handled with its result unwritten) goes on, and its
    /// complete/fail now matches the new claim; a second entry would overwrite it, lose its
    /// slot and run the job twice in one process.
    @discardableResult
    func claimed(_ jobs: [WorkerJob], reserved: Int, at now: Date = Date(), clock: UInt64 = Ledger.now()) -> [WorkerJob] {
        state.withLock { s in
            var taken: [WorkerJob] = []
            taken.reserveCapacity(jobs.count)
            for job in jobs where s.entries[job.id] == nil {
                s.entries[job.id] = Entry(job: job, phase: .claimed, leaseRenewedAt: now,
                                          cancellation: CancellationFlag(), claimedAt: clock)
                taken.append(job)
            }
            s.slotsInUse -= reserved - taken.count
            s.waiting += taken.count
            return taken
        }
    }

    enum StartOutcome: Sendable {
        case started(CancellationFlag)
        /// Released meanwhile (shutdown, or it waited in the prefetch buffer too long): not run.
        case gone
        /// Running + handled-but-unwritten jobs fill the at-least-once window: wait for a write.
        case windowFull
    }

    /// Marks a job running unless that would put more than `window` jobs at risk of running
    /// twice after a crash: those running plus those handled whose results are not committed.
    /// Checked here, where a handler starts, the bound holds however large the claims are and
    /// however slow complete_jobs is (docs/WORKERS.md "The window").
    func tryStart(_ id: JobID, clock: UInt64 = Ledger.now(), window: Int = .max) -> StartOutcome {
        state.withLock { s in
            guard var entry = s.entries[id], entry.phase == .claimed else { return .gone }
            guard s.running + s.finishedUnwritten < window else { return .windowFull }
            entry.phase = .running
            entry.startedAt = clock
            s.entries[id] = entry
            s.waiting -= 1
            s.running += 1
            return .started(entry.cancellation)
        }
    }

    /// Marks a job running, with no window; nil when it was released meanwhile and must not run.
    func start(_ id: JobID, clock: UInt64 = Ledger.now()) -> CancellationFlag? {
        if case let .started(flag) = tryStart(id, clock: clock) { return flag }
        return nil
    }

    /// Records a handler result and how long the handler ran (`handlerNanos`, from its start:
    /// time spent waiting in the prefetch buffer is not in it; it becomes processing_time_ms).
    /// Results for jobs released meanwhile are dropped: the job is pending again and belongs to
    /// whoever claims it next.
    func finish(_ id: JobID, outcome: JobOutcome, handlerNanos: UInt64) {
        let processingMs = Int(handlerNanos / 1_000_000)
        state.withLock { s in
            guard var entry = s.entries[id], entry.phase == .running else { return }
            entry.phase = .finished
            s.entries[id] = entry
            s.slotsInUse -= 1
            s.running -= 1
            s.finishedUnwritten += 1
            s.pace.record(seconds: Double(handlerNanos) / 1e9)
            let queue = entry.job.queue
            switch outcome {
            case .completed, .completedWithResult:
                var result: String?
                if case let .completedWithResult(json) = outcome { result = json }
                s.completions.append(Completion(id: id, processingMs: processingMs, result: result))
                s.counters.processed += 1
                s.counters.perQueueProcessed[queue, default: 0] += 1
            case let .failed(failure):
                s.failures.append(JobFailure(
                    id: id, message: failure.message, errorType: failure.errorType,
                    details: JSONText(failure.detailsJSON), retryable: failure.retryable,
                    retryAfterSeconds: failure.retryAfterSeconds))
                s.counters.failed += 1
                s.counters.perQueueFailed[queue, default: 0] += 1
            }
        }
    }

    /// Whether the completer should hold its write a moment for more results: fewer than
    /// `target` are waiting to be written, and more are on their way (a handler is running, or
    /// a buffered job can start because running + unwritten leave room in `window`). When the
    /// window is full nothing more can finish before a commit, so waiting would only stall.
    func moreResultsImminent(target: Int, window: Int) -> Bool {
        state.withLock { s in
            let ready = s.completions.count + s.failures.count
            guard ready < target else { return false }
            let roomToStart = s.running + s.finishedUnwritten < window && s.waiting > 0
            return s.running > 0 || roomToStart
        }
    }

    /// Takes up to `max` results to flush.
    func takeResults(max: Int) -> ([Completion], [JobFailure]) {
        state.withLock { s in
            let c = Array(s.completions.prefix(max))
            s.completions.removeFirst(c.count)
            let f = Array(s.failures.prefix(Swift.max(0, max - c.count)))
            s.failures.removeFirst(f.count)
            if !c.isEmpty || !f.isEmpty { s.writingSince = Ledger.now() }
            return (c, f)
        }
    }

    /// A flush failed: the results go back to the front, to be written on the next try.
    func putBack(_ completions: [Completion], _ failures: [JobFailure]) {
        state.withLock { s in
            s.completions.insert(contentsOf: completions, at: 0)
            s.failures.insert(contentsOf: failures, at: 0)
            s.writingSince = 0
        }
    }

    /// The results were committed (or the jobs released): forget them.
    func forget(_ ids: [JobID]) {
        state.withLock { s in
            s.writingSince = 0
            for id in ids {
                guard let entry = s.entries.removeValue(forKey: id) else { continue }
                if entry.phase == .finished { s.finishedUnwritten -= 1 } else { s.slotsInUse -= 1 }
                if entry.phase == .claimed { s.waiting -= 1 }
                if entry.phase == .running { s.running -= 1 }
            }
        }
    }

    /// Takes out the jobs claimed before `cutoff` whose handler has not started, for release:
    /// the prefetch buffer's bound. An executor that pops one later finds it gone (`start`).
    func takeWaiting(claimedBefore cutoff: UInt64) -> [JobID] {
        state.withLock { s in
            guard s.waiting > 0 else { return [] }
            let ids = s.entries.values.filter { $0.phase == .claimed && $0.claimedAt < cutoff }.map(\.job.id)
            for id in ids { s.entries.removeValue(forKey: id) }
            s.slotsInUse -= ids.count
            s.waiting -= ids.count
            return ids
        }
    }

    /// Takes out one claimed job whose handler has not started, for release (its queue was
    /// paused or its breaker opened while it waited); false when it is not waiting any more.
    func takeWaiting(_ id: JobID) -> Bool {
        state.withLock { s in
            guard s.entries[id]?.phase == .claimed else { return false }
            s.entries.removeValue(forKey: id)
            s.slotsInUse -= 1
            s.waiting -= 1
            return true
        }
    }

    /// An operator cancelled these jobs (cancel_job on a running job). Running ones get their
    /// flag set (by the caller, outside the lock: setting it runs interrupt actions such as a
    /// PQcancel) and go on to a result that fail_jobs turns into 'cancelled'; claimed ones that
    /// have not started are taken out, for release_jobs, which ends them cancelled. Ids this
    /// worker does not hold, or holds finished, are left alone.
    func takeForCancel(_ ids: [JobID]) -> (running: [CancellationFlag], notStarted: [JobID]) {
        state.withLock { s in
            var running: [CancellationFlag] = [], notStarted: [JobID] = []
            for id in ids {
                guard let entry = s.entries[id] else { continue }
                switch entry.phase {
                case .running: running.append(entry.cancellation)
                case .claimed:
                    s.entries.removeValue(forKey: id)
                    s.slotsInUse -= 1
                    s.waiting -= 1
                    notStarted.append(id)
                case .finished: break
                }
            }
            return (running, notStarted)
        }
    }

    /// Whether this worker holds the job, claimed or running (not yet finished).
    func holds(_ id: JobID) -> Bool { state.withLock { ($0.entries[id].map { $0.phase != .finished }) ?? false } }

    /// Whether this job's handler is running here now.
    func isRunning(_ id: JobID) -> Bool { state.withLock { $0.entries[id]?.phase == .running } }

    /// When the longest-waiting claimed job was claimed; nil when none waits.
    func oldestWaitingClaim() -> UInt64? {
        state.withLock { s in
            guard s.waiting > 0 else { return nil }
            return s.entries.values.lazy.filter { $0.phase == .claimed }.map(\.claimedAt).min()
        }
    }

    /// What the prefetch policy needs: how many jobs have been running since before
    /// `runningSince` (executors tied up for a while) and the mean handler time so far.
    func pace(runningSince cutoff: UInt64) -> (busyExecutors: Int, pace: HandlerPace) {
        state.withLock { s in
            let busy = s.entries.values.reduce(0) { $0 + ($1.phase == .running && $1.startedAt < cutoff ? 1 : 0) }
            return (busy, s.pace)
        }
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// `now()` minus `seconds`, never below 0 (uptime can be shorter than a bound).
    static func ago(_ seconds: TimeInterval) -> UInt64 {
        let now = now(), span = UInt64(max(0, seconds) * 1e9)
        return now > span ? now - span : 0
    }

    /// Takes the jobs claimed or running out of the ledger, for release at shutdown: their
    /// cancellation flags are set and a result that arrives later is dropped.
    func takeUnfinished() -> [JobID] {
        let (ids, flags) = state.withLock { s -> ([JobID], [CancellationFlag]) in
            let ids = s.entries.values.filter { $0.phase != .finished }.map(\.job.id)
            var flags: [CancellationFlag] = []
            for id in ids {
                if let entry = s.entries.removeValue(forKey: id) { flags.append(entry.cancellation) }
                s.slotsInUse -= 1
            }
            s.waiting = 0
            s.running = 0
            return (ids, flags)
        }
        // Outside the lock: cancelling runs interrupt actions (a sql handler's PQcancel is a
        // round trip to the server).
        for flag in flags { flag.cancel(.shutdown) }
        return ids
    }

    /// Every job held (any phase) whose lease is older than its queue's threshold.
    func leasesDue(now: Date, threshold: (String) -> TimeInterval) -> [JobID] {
        state.withLock { s in
            s.entries.values.filter { now.timeIntervalSince($0.leaseRenewedAt) >= threshold($0.job.queue) }.map(\.job.id)
        }
    }

    /// How many of `ids` are still claimed or running (a lease "lost" on a job that has just
    /// been committed is no loss).
    func unfinishedCount(among ids: [JobID]) -> Int {
        state.withLock { s in ids.reduce(0) { $0 + ((s.entries[$1].map { $0.phase != .finished } ?? false) ? 1 : 0) } }
    }

    func leasesRenewed(_ ids: [JobID], at now: Date) {
        state.withLock { s in for id in ids { s.entries[id]?.leaseRenewedAt = now } }
    }

    var slotsInUse: Int { state.withLock { $0.slotsInUse } }
    /// What the registry heartbeat reports, read under one lock so the two agree: the jobs this
    /// worker holds (handlers running plus claimed ahead) and, of those, the ones not started.
    /// Not `slotsInUse`: that also counts slots reserved for a claim that has not returned yet,
    /// jobs nobody holds, and put BUSY above CONC on the Workers screen while BUF read 0.
    func heartbeatFigures() -> (held: Int, buffered: Int) {
        state.withLock { ($0.running + $0.waiting, $0.waiting) }
    }
    /// Claimed jobs whose handler has not started (the prefetch buffer).
    var waiting: Int { state.withLock { $0.waiting } }
    var unwrittenResults: Int { state.withLock { $0.finishedUnwritten } }
    var hasPendingResults: Bool { state.withLock { !$0.completions.isEmpty || !$0.failures.isEmpty } }
    var isEmpty: Bool { state.withLock { $0.entries.isEmpty } }
    var running: Int { state.withLock { $0.running } }
    var counters: Counters { state.withLock { $0.counters } }
    func heldPerQueue() -> [String: Int] {
        state.withLock { s in s.entries.values.reduce(into: [:]) { $0[$1.job.queue, default: 0] += 1 } }
    }
}

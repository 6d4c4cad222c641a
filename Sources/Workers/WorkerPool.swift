import Foundation
import Logging
import Synchronization
import Postgres
import QueueStore

/// The embedded worker pool: claims jobs in batches, runs them through handlers on its own OS
/// threads, commits outcomes in batches. Used headless by `queuetop worker` and embedded in the
/// dashboard process.
///
/// Threads (each blocking one has its own connection; Swift's cooperative pool is never blocked):
/// - fetcher: claim_jobs for the free slots plus a small prefetch buffer when jobs finish fast
///   (Prefetch.swift), hands jobs to the executors, releases buffered jobs that waited too long;
/// - executors (`concurrency` of them): run handlers;
/// - completer: one complete_jobs + fail_jobs round trip per flush ("group commit": whatever
///   finished during the previous round trip goes in the next);
/// - maintenance: lease heartbeats, registry row, live queue settings and breaker state, drain
///   requests, rescue_stale_jobs, once a second;
/// - listener: LISTEN queuetop_jobs (wakes the fetcher) and queuetop_cancel (stops the handler
///   of a job an operator cancelled, RunningJobCancel.swift);
/// - retention: prunes finished jobs and bulk operations when this worker wins the run
///   (Maintenance.swift; at most one worker per interval across all hosts).
/// - schedules: enqueues due cron schedules (ScheduleTicker.swift);
/// - alerts: turns health alerts firing or clearing into webhook POSTs (AlertHookDelivery.swift).
/// - vacuum: VACUUMs job_queue after every `vacuumAfterClaims` claimed jobs (QueueVacuum.swift).
public final class WorkerPool: Sendable {
    public let id: String
    let configuration: WorkerPoolConfiguration
    let ledger = Ledger()
    let work = WorkQueue()
    let fetchWake = WakeSignal()
    let flushWake = WakeSignal()
    /// Fired when results are committed: room in the at-least-once window (PoolLoops.startWithinWindow).
    let windowRoom = BroadcastSignal()
    let maintenanceWake = WakeSignal()
    let threads = DispatchGroup()
    let executorThreads = DispatchGroup()
    let stopped = DispatchSemaphore(value: 0)
    /// Claimed jobs an executor declined to start (queue paused, breaker open), for the fetcher
    /// to release.
    let handBack = SpinningLock<[JobID]>([])
    /// Jobs claimed since start (the vacuum thread's clock).
    let claimedTotal = Atomic<Int>(0)
    /// Whether the listener's LISTEN works (notifications arrive): the cancel poll slows down then.
    let cancelNotificationsWork = Atomic<Bool>(false)
    /// Backends sql handlers started jobs on, not yet written (RunningJobCancel.swift).
    let handlerBackends = SpinningLock<[JobID: Int32]>([:])

    struct Shared: Sendable {
        var phase: WorkerPoolSnapshot.Phase = .starting
        var settings: [String: WorkerStore.QueueSettings] = [:]
        var breakers: [String: CircuitBreaker] = [:]
        /// Breaker states to write to circuit_breakers (queue -> state at transition).
        var breakerWrites: [String: CircuitBreaker] = [:]
        var stopRequested = false
        /// Tests only (`holdRegistryHeartbeat`): skip the registry heartbeat, as a worker whose
        /// registry write is late, while everything else (lease renewals) goes on.
        var registryHeartbeatHeld = false
        /// When worker_cancel_requests was last asked (RunningJobCancel.swift).
        var lastCancelPoll = Date.distantPast
        /// Whether the database has migration 0020's functions, and when that was last asked.
        var cancelSupported = false
        var cancelSupportCheckedAt = Date.distantPast
    }
    let shared = SpinningLock(Shared())

    /// The longest a held job's lease goes unrenewed (less when a third of its queue's
    /// visibility timeout is shorter). Well inside worker_silence_limit() (30 s, 60_workers.sql):
    /// a job whose lease is older than that is not being worked, whatever the registry says,
    /// and rescue_stale_jobs never takes a job with a younger lease from a silent worker.
    static let maxLeaseAge: TimeInterval = 10

    /// Tests: stop (or resume) writing this worker's registry row, leaving its leases renewed.
    func holdRegistryHeartbeat(_ held: Bool) {
        shared.withLock { $0.registryHeartbeatHeld = held }
    }

    public init(configuration: WorkerPoolConfiguration) {
        self.configuration = configuration
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.id = "\(configuration.host):\(configuration.pid):\(suffix)"
    }

    /// One event of the pool. The message is composed here (it quotes names and errors): the
    /// handler escapes it on output, as it does every metadata value.
    func log(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata = [:]) {
        configuration.logger.log(level: level, "\(message)", metadata: metadata.isEmpty ? nil : metadata)
    }

    /// One thread's connection: each pool thread owns one, so a slow statement on one (a big
    /// complete batch) never delays another (a claim). Called with `run(stop:)` it backs off
    /// after a failure and logs it: a lost link once per outage (then "reconnected" when it is
    /// back), any other error every time — a missing table, function or schema is also how a
    /// `queuetop migrate` that moved the install shows, and the link is reopened for that.
    /// `onConnect` runs on every new link after application_name is set (LISTEN, say).
    func threadConnection(_ label: String, onConnect: (@Sendable (Connection) throws -> Void)? = nil) -> ManagedConnection {
        let logger = configuration.logger, endpoint = configuration.database.endpoint, countLink = reconnectCounter()
        return ManagedConnection(config: configuration.database, setup: { connection in
            countLink()
            try connection.execute("SELECT set_config('application_name', \("queuetop worker " + label), false)")
            try onConnect?(connection)
        }, report: { event in
            switch event {
            case let .failed(error, retryIn):
                // The server's CONTEXT can run to kilobytes; one readable line is enough here.
                let reason = JSONSupport.snippet(String(describing: error).replacingOccurrences(of: "\n", with: " "), limit: 300)
                logger.error("\(label): \(reason) — retrying in \(String(format: "%.1f", retryIn)) s")
            case .restored:
                logger.info("\(label): reconnected to \(endpoint)")
            }
        })
    }

    var phase: WorkerPoolSnapshot.Phase { shared.withLock { $0.phase } }
    var isStopping: Bool { shared.withLock { $0.stopRequested } }

    /// Connects, registers and starts the threads. Throws (and starts nothing) when the database
    /// cannot be reached or the schema is missing, so a wrong --db fails fast.
    public func start() throws {
        let setup = threadConnection("setup")
        let connection = try setup.connection()
        let store = WorkerStore(connection: connection, workerID: id)
        try store.register(host: configuration.host, pid: configuration.pid,
                           queues: configuration.queues, concurrency: configuration.concurrency)
        refreshSettings(try store.queueSettings(queues: configuration.queues))
        setup.drop()
        shared.withLock { $0.phase = .running }

        for n in 0..<configuration.claimers { spawn("fetcher-\(n)") { self.fetchLoop(n) } }
        spawn("completer") { self.completeLoop() }
        spawn("maintenance") { self.maintenanceLoop() }
        spawn("listener") { self.listenLoop() }
        spawn("retention") { self.retentionLoop() }
        spawn("schedules") { self.scheduleLoop() }
        spawn("alerts") { self.alertLoop() }
        if configuration.vacuumAfterClaims > 0 { spawn("vacuum") { self.vacuumLoop() } }
        for n in 0..<configuration.concurrency {
            executorThreads.enter()
            let thread = Thread { self.executeLoop(); self.executorThreads.leave() }
            thread.name = "queuetop-executor-\(n)"
            thread.start()
        }
        let queues = configuration.queues?.joined(separator: ",") ?? "all queues"
        log(.info, "worker \(id) started: \(queues), concurrency \(configuration.concurrency), batch \(configuration.batchSize), at most \(configuration.atLeastOnceWindow) at risk of a rerun, prefetch wait \(configuration.prefetchWait) s")
    }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        threads.enter()
        let thread = Thread { body(); self.threads.leave() }
        thread.name = "queuetop-\(name)"
        thread.start()
    }

    /// Stops claiming, gives running jobs `grace` seconds, releases whatever is unfinished (not
    /// counted as an attempt), commits the finished, deregisters. Blocks until done; safe to
    /// call more than once and from any thread.
    public func stop(grace: TimeInterval) {
        let first = shared.withLock { s -> Bool in
            if s.stopRequested { return false }
            s.stopRequested = true
            s.phase = .stopping
            return true
        }
        guard first else { stopped.wait(); stopped.signal(); return }
        log(.info, "stopping: no more claims; \(ledger.running) job(s) running, grace \(Int(grace)) s")
        fetchWake.close()
        // Jobs claimed but not started are released at once: running them now only delays exit.
        let notStarted = work.drainAll().map(\.id)
        let deadline = Date().addingTimeInterval(grace)
        while ledger.running > 0 && Date() < deadline { usleep(20_000) }
        // With them, jobs executors handed back (paused queue, open breaker) that the fetcher,
        // stopped by now, did not release.
        let handedBack = handBack.withLock { ids in defer { ids = [] }; return ids }
        let unfinished = Set(ledger.takeUnfinished()).union(notStarted).union(handedBack)
        work.close()
        windowRoom.fire()
        flushWake.fire()
        finishStop(release: Array(unfinished))
        stopped.signal()
    }

    /// Blocks until the pool has stopped (after stop(), or after a drain request finished).
    public func waitUntilStopped() {
        stopped.wait()
        stopped.signal()
    }

    /// Wakes the fetcher now (the dashboard's "run now" for an embedded pool).
    public func wake() { fetchWake.fire() }

    public func snapshot() -> WorkerPoolSnapshot {
        let counters = ledger.counters
        let held = ledger.heldPerQueue()
        let (phase, settings, breakers) = shared.withLock { ($0.phase, $0.settings, $0.breakers) }
        let names = Set(settings.keys).union(held.keys).union(counters.perQueueProcessed.keys)
        let queues = names.sorted().map { name in
            WorkerPoolSnapshot.QueueState(
                name: name, paused: settings[name]?.paused ?? false,
                breaker: breakers[name]?.state.name ?? "closed", held: held[name] ?? 0,
                processed: counters.perQueueProcessed[name] ?? 0, failed: counters.perQueueFailed[name] ?? 0)
        }
        return WorkerPoolSnapshot(workerID: id, phase: phase, concurrency: configuration.concurrency,
                                  inFlight: held.values.reduce(0, +), waiting: ledger.waiting, running: ledger.running,
                                  processed: counters.processed, failed: counters.failed, queues: queues)
    }

    func refreshSettings(_ rows: [WorkerStore.QueueSettings]) {
        let now = Date()
        shared.withLock { s in
            s.settings = Dictionary(rows.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for row in rows {
                var breaker = s.breakers[row.name] ?? CircuitBreaker(policy: configuration.breaker)
                // A transition not yet written would be undone by the stale row we just read.
                if s.breakerWrites[row.name] == nil {
                    breaker.adopt(remoteState: row.breakerState, reopenAt: row.breakerReopenAt, now: now)
                }
                s.breakers[row.name] = breaker
            }
        }
    }
}

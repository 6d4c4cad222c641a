import Foundation
import Postgres
import QueueStore

/// The pool's thread bodies. None contains SQL: that lives in QueueStore/WorkerStore.swift.
extension WorkerPool {
    // MARK: fetcher

    func fetchLoop(_ n: Int) {
        let slot = threadConnection("fetcher-\(n)")
        let stop = { self.isStopping }
        var lastClaimWasFull = false
        var unreleased: [JobID] = []  // taken out of the prefetch buffer, release not yet written
        defer {
            if !unreleased.isEmpty { releaseUnstarted(slot, &unreleased, stopping: true) }
            slot.drop()
        }
        while !isStopping {
            releaseUnstarted(slot, &unreleased)
            if phase == .draining || phase == .quiet { fetchWake.wait(timeout: nextFetchCheck()); continue }
            let capacity = configuration.concurrency + prefetchAllowance()
            let lowWater = PrefetchPolicy.claimLowWater(batch: configuration.batchSize, capacity: capacity, afterFullClaim: lastClaimWasFull)
            let reserved = ledger.reserve(upTo: configuration.batchSize, capacity: capacity,
                                          minimum: lowWater, maxUnwritten: configuration.maxUnwrittenResults,
                                          writeStartedAfter: Ledger.ago(Self.slowWrite))
            if reserved == 0 { fetchWake.wait(timeout: nextFetchCheck()); continue }
            let plan = claimPlan(free: reserved)
            guard !plan.isEmpty else {
                ledger.claimed([], reserved: reserved)
                fetchWake.wait(timeout: nextFetchCheck())
                continue
            }
            var claimed: [WorkerJob] = []
            var requested = 0
            // Probes this plan reserved (claimPlan marks them claimed) whose claim has not run yet.
            var unclaimedProbes = Set(plan.compactMap(\.2))
            do {
                for (queues, limit, probeQueue) in plan {
                    requested += limit
                    let rows = try slot.run(stop: stop) { connection in
                        try timed(.claim) { try JobStore(connection: connection).claim(worker: id, queues: queues, max: limit) }
                    }
                    if let probeQueue { unclaimedProbes.remove(probeQueue) }
                    let jobs = rows.map {
                        WorkerJob(id: $0.id, queue: $0.queue, type: $0.jobType,
                                  payload: $0.payload.raw, attemptCount: $0.attemptCount,
                                  maxAttempts: $0.maxAttempts, priority: $0.priority, tenant: $0.tenant)
                    }
                    if let probeQueue, jobs.isEmpty {
                        shared.withLock { $0.breakers[probeQueue]?.probeFoundNothing() }
                    }
                    claimed += jobs
                }
            } catch {
                // The slot logged and backed off. Jobs of an earlier call of this plan are kept.
                // A probe whose claim failed (the database went away) never ran: without this the
                // half-open breaker would wait for its outcome forever and the queue would never
                // be claimed again (found by ChaosTests' repeated PostgreSQL restarts).
                shared.withLock { s in for queue in unclaimedProbes { s.breakers[queue]?.probeFoundNothing() } }
                work.push(ledger.claimed(claimed, reserved: reserved))
                lastClaimWasFull = false
                continue
            }
            if isStopping {
                // Claimed while stop() began: hand them back untouched.
                ledger.claimed([], reserved: reserved)
                _ = try? slot.run(stop: { false }) { try JobStore(connection: $0).release(worker: id, ids: claimed.map(\.id)) }
                break
            }
            let taken = ledger.claimed(claimed, reserved: reserved)  // without jobs already held
            recordClaimed(taken)
            work.push(taken)
            claimedTotal.add(taken.count, ordering: .relaxed)
            lastClaimWasFull = !claimed.isEmpty && claimed.count >= requested
            if !lastClaimWasFull {
                // Nothing more is due (or a limit held us back): sleep until NOTIFY, a freed slot
                // or the fallback poll. Rate-limited queues refill continuously, so look again soon.
                let rateLimited = shared.withLock { $0.settings.values.contains(where: \.isRateLimited) }
                fetchWake.wait(timeout: min(rateLimited && !claimed.isEmpty ? 0.1 : configuration.pollInterval, nextFetchCheck()))
            }
        }
    }

    /// A write in flight for longer than this means a slow database: the fetcher then stops
    /// claiming ahead of it (Ledger.reserve).
    static let slowWrite: TimeInterval = 0.25

    /// Jobs the fetcher may claim beyond the free handler slots now (Prefetch.swift).
    private func prefetchAllowance() -> Int {
        let policy = configuration.prefetch
        guard policy.maxWait > 0 else { return 0 }
        let (busy, pace) = ledger.pace(runningSince: Ledger.ago(policy.target))
        return policy.allowance(concurrency: configuration.concurrency, busyExecutors: busy, pace: pace)
    }

    /// Releases claimed jobs that will not start here soon (not counted as an attempt): those
    /// that waited `prefetchWait` in the buffer without a handler slot, so a job claimed behind
    /// long ones goes back to pending for any worker, and those executors handed back because
    /// their queue was paused or its breaker opened meanwhile. Once out of the ledger they are
    /// neither run nor heartbeated here; a release that failed (database gone) stays in
    /// `unreleased` and is retried on the next pass and at exit.
    private func releaseUnstarted(_ slot: ManagedConnection, _ unreleased: inout [JobID], stopping: Bool = false) {
        let wait = configuration.prefetchWait
        let overdue = wait > 0 ? ledger.takeWaiting(claimedBefore: Ledger.ago(wait)) : []
        work.remove(Set(overdue))
        let declined = handBack.withLock { ids in defer { ids = [] }; return ids }
        unreleased += overdue + declined
        guard !unreleased.isEmpty else { return }
        let ids = unreleased
        guard let released = try? slot.run(stop: { stopping ? false : self.isStopping }, {
            try JobStore(connection: $0).release(worker: id, ids: ids)
        }) else { return }
        unreleased = []
        log(.info, "released \(released) claimed job(s) before they started: waited \(wait) s for a handler slot, "
            + "or their queue was paused or its circuit breaker opened")
    }

    /// How long the fetcher may sleep: the poll interval, or less when a buffered job reaches
    /// its prefetch deadline sooner.
    private func nextFetchCheck() -> TimeInterval {
        let wait = configuration.prefetchWait
        guard wait > 0, let oldest = ledger.oldestWaitingClaim() else { return configuration.pollInterval }
        let due = Double(oldest) / 1e9 + wait - Double(Ledger.now()) / 1e9
        return min(configuration.pollInterval, max(0.005, due))
    }

    /// Which claim_jobs calls to make: normally one; a half-open breaker adds a one-job probe.
    /// Paused queues and open breakers are left out (claim_jobs also skips paused queues; leaving
    /// them out here saves it the work).
    func claimPlan(free: Int) -> [(queues: [String]?, limit: Int, probe: String?)] {
        let now = Date()
        return shared.withLock { s in
            var allowed: [String] = []
            var probes: [String] = []
            var restricted = false
            for name in s.settings.keys.sorted() {
                let paused = s.settings[name]?.paused ?? false
                var breaker = s.breakers[name] ?? CircuitBreaker(policy: configuration.breaker)
                let permission = breaker.permission(now: now)
                if case .probeOne = permission, !paused { breaker.probeClaimed(); probes.append(name) }
                s.breakers[name] = breaker
                if paused || permission != .claim { restricted = true } else { allowed.append(name) }
            }
            var plan: [(queues: [String]?, limit: Int, probe: String?)] = []
            var budget = free
            for probe in probes where budget > 0 {
                plan.append(([probe], 1, probe))
                budget -= 1
            }
            guard budget > 0 else { return plan }
            if configuration.queues == nil && !restricted {
                plan.append((nil, budget, nil))  // every queue, including ones created since the last refresh
            } else if !allowed.isEmpty {
                plan.append((allowed, budget, nil))
            } else if s.settings.isEmpty, let queues = configuration.queues {
                plan.append((queues, budget, nil))  // queues that do not exist yet: claim_jobs finds nothing, cheaply
            }
            return plan
        }
    }

    // MARK: executors

    func executeLoop() {
        while let job = work.pop() {
            if mayNotStart(queue: job.queue) {
                if ledger.takeWaiting(job.id) {
                    handBack.withLock { $0.append(job.id) }
                    fetchWake.fire()
                }
                continue
            }
            // The processing clock starts here, with the handler: not at the claim, so time spent
            // in the prefetch buffer (or waiting for room in the window) never counts toward
            // processing_time_ms (p50/p95/p99).
            guard let (cancellation, started) = startWithinWindow(job.id) else { continue }
            let context = JobContext(job: job, cancellation: cancellation,
                                     reportBackend: { pid in self.handlerBackendStarted(job.id, pid: pid) })
            let outcome = configuration.handlers.run(context)
            let elapsed = Ledger.now() - started
            ledger.finish(job.id, outcome: outcome, handlerNanos: elapsed)
            // A handler an operator stopped says nothing about the job's or the queue's health:
            // no failure in the metrics, none for the circuit breaker.
            let cancelled = cancellation.reason == .operatorRequest
            if !cancelled || !outcome.isFailure {
                recordFinished(job, outcome: outcome, nanoseconds: elapsed)
                recordBreaker(queue: job.queue, outcome: outcome)
            }
            logJobEvent(job, outcome: outcome, nanoseconds: elapsed, cancelledByOperator: cancelled)
            flushWake.fire()
            fetchWake.fire()
        }
    }

    /// Starts the job once running + handled-but-unwritten jobs leave room in the at-least-once
    /// window (the completer's commits make room); nil when it was released meanwhile (the
    /// prefetch bound, a pause, shutdown), so a job waits here no longer than in the buffer.
    private func startWithinWindow(_ id: JobID) -> (CancellationFlag, UInt64)? {
        while true {
            let seen = windowRoom.current
            let clock = Ledger.now()
            switch ledger.tryStart(id, clock: clock, window: configuration.atLeastOnceWindow) {
            case let .started(cancellation): return (cancellation, clock)
            case .gone: return nil
            case .windowFull: windowRoom.wait(after: seen, timeout: 0.05)
            }
        }
    }

    /// A job claimed before its queue was paused or its breaker opened is handed back rather
    /// than run: with a prefetch buffer it may have waited up to `prefetchWait` for its slot.
    private func mayNotStart(queue: String) -> Bool {
        shared.withLock { s in
            if s.settings[queue]?.paused == true { return true }
            if case .open = s.breakers[queue]?.state { return true }
            return false
        }
    }

    private func recordBreaker(queue: String, outcome: JobOutcome) {
        let (success, retryable): (Bool, Bool) = {
            if case let .failed(f) = outcome { return (false, f.retryable) }
            return (true, false)
        }()
        let now = Date()
        let changed: CircuitBreaker? = shared.withLock { s in
            var breaker = s.breakers[queue] ?? CircuitBreaker(policy: configuration.breaker)
            let changed = breaker.record(success: success, retryable: retryable, now: now)
            s.breakers[queue] = breaker
            if changed { s.breakerWrites[queue] = breaker }
            return changed ? breaker : nil
        }
        if let changed {
            log(.warning, "circuit breaker for queue \(queue): \(changed.state.name)"
                + (changed.reopenAt.map { " until \(PostgresTimestamp.format($0))" } ?? ""))
            maintenanceWake.fire()
        }
    }

    // MARK: completer

    func completeLoop() {
        let slot = threadConnection("completer")
        var stoppingSince: Date?
        while true {
            if isStopping {
                stoppingSince = stoppingSince ?? Date()
                // Executors may still be finishing; give up writing after 15 s of database trouble:
                // those jobs are then rescued after the visibility timeout (at-least-once).
                if !ledger.hasPendingResults && ledger.running == 0 { break }
                if Date().timeIntervalSince(stoppingSince!) > 15 {
                    log(.error, "completer: giving up on unwritten results at shutdown; rescue will retry those jobs")
                    break
                }
            }
            let take = max(configuration.batchSize, 1000)
            if !isStopping { lingerForFullerBatch(take) }
            let (completions, failures) = ledger.takeResults(max: take)
            if completions.isEmpty && failures.isEmpty {
                flushWake.wait(timeout: isStopping ? 0.05 : 1)
                continue
            }
            do {
                try slot.run(stop: { false }) { connection in
                    let timing = startTiming(.write)
                    defer { timing() }
                    let store = JobStore(connection: connection)
                    if !completions.isEmpty {
                        let results = completions.map { $0.result.map(JSONText.init) }
                        try store.complete(worker: id, ids: completions.map(\.id),
                                           processingMs: completions.map(\.processingMs),
                                           results: results.contains { $0 != nil } ? results : nil)
                    }
                    try store.fail(worker: id, failures)
                }
                ledger.forget(completions.map(\.id) + failures.map(\.id))
                windowRoom.fire()  // executors waiting for room in the window may start
                fetchWake.fire()  // written results free room under maxUnwrittenResults
            } catch {
                // Not dropped: the same results are written on the next try (complete_jobs is
                // idempotent for this worker: it only touches rows still locked by it).
                ledger.putBack(completions, failures)
            }
        }
        slot.drop()
    }

    /// Group commit's other half: right after a commit the executors have only just been let
    /// back into the window, so the first results are a handful, and writing them at once costs
    /// a whole round trip (as much as ~200: the cost of complete_jobs is mostly per statement,
    /// docs/BENCHMARKS.md) while the rest pile up behind it. So while more results are imminent
    /// (Ledger.moreResultsImminent) the completer waits for them, at most `maxLinger`: far less
    /// than a round trip, and only when handlers are finishing that fast.
    static let maxCompleterLinger: TimeInterval = 0.002

    private func lingerForFullerBatch(_ take: Int) {
        let maxLinger = Self.maxCompleterLinger
        let target = min(take, configuration.maxUnwrittenResults)
        let deadline = Ledger.now() + UInt64(maxLinger * 1e9)
        while ledger.hasPendingResults, ledger.moreResultsImminent(target: target, window: configuration.atLeastOnceWindow),
              Ledger.now() < deadline {
            flushWake.wait(timeout: maxLinger / 4)
        }
    }

    // MARK: maintenance

    func maintenanceLoop() {
        let slot = threadConnection("maintenance")
        let stop = { self.isStopping }
        var lastRescue = Date().addingTimeInterval(-Double.random(in: 0...configuration.rescueInterval))
        while !isStopping {
            maintenanceWake.wait(timeout: min(1, configuration.pollInterval))
            if isStopping { break }
            do {
                let writes = shared.withLock { s -> [String: CircuitBreaker] in
                    let w = s.breakerWrites
                    s.breakerWrites = [:]
                    return w
                }
                do {
                    try slot.run(stop: stop) { connection in
                        let store = WorkerStore(connection: connection, workerID: id)
                        for (queue, breaker) in writes {
                            try store.setCircuitBreaker(queue: queue, state: breaker.state.name,
                                                        failures: breaker.consecutiveFailures, reopenAt: breaker.reopenAt)
                        }
                    }
                } catch {
                    shared.withLock { s in s.breakerWrites.merge(writes) { newer, _ in newer } }
                    throw error
                }
                let settings = try slot.run(stop: stop) {
                    try WorkerStore(connection: $0, workerID: id).queueSettings(queues: configuration.queues)
                }
                refreshSettings(settings)
                try renewLeases(slot: slot, settings: settings)
                try pollCancelRequests(slot)
                try writeHandlerBackends(slot)
                var status: String? = "running"
                if !shared.withLock({ $0.registryHeartbeatHeld }) {
                    let figures = ledger.heartbeatFigures()
                    status = try slot.run(stop: stop) {
                        try WorkerStore(connection: $0, workerID: id).registryHeartbeat(inFlight: figures.held, buffered: figures.buffered)
                    }
                }
                if status == nil {
                    // Pruned, or declared dead after its registry row went silent (rescue_stale_jobs
                    // handed back the jobs whose leases were stale too; heartbeat_jobs says which).
                    log(.warning, "worker \(id): registry row missing or declared dead; registering again")
                    try slot.run(stop: stop) {
                        try WorkerStore(connection: $0, workerID: id).register(host: configuration.host, pid: configuration.pid,
                                        queues: configuration.queues, concurrency: configuration.concurrency)
                    }
                } else if status == "draining" {
                    beginDrain()
                } else if let status {
                    followQuiet(status == "quiet")
                }
                // Expired jobs are never claimed; cancelling them here makes that visible (counts,
                // audit) within about a second. Cheap when there are none: one partial-index probe.
                let expired = try slot.run(stop: stop) { try JobStore(connection: $0).expire() }
                if expired > 0 { log(.info, "cancelled \(expired) expired job(s)") }
                if Date().timeIntervalSince(lastRescue) >= configuration.rescueInterval {
                    lastRescue = Date()
                    let rescued = try slot.run(stop: stop) { try JobStore(connection: $0).rescueStale() }
                    if rescued > 0 { log(.warning, "rescued \(rescued) job(s) whose worker stopped heartbeating") }
                }
            } catch {
                continue
            }
        }
        slot.drop()
    }

    /// Heartbeats every held job whose lease is a third of its queue's visibility timeout or
    /// `maxLeaseAge` old, in one heartbeat_jobs call, so a live long job is never rescued, nor
    /// handed back by the dead-worker sweep when this worker's registry row is late.
    private func renewLeases(slot: ManagedConnection, settings: [WorkerStore.QueueSettings]) throws {
        let timeouts = Dictionary(settings.map { ($0.name, Double($0.visibilityTimeoutSeconds)) }, uniquingKeysWith: { a, _ in a })
        let now = Date()
        let due = ledger.leasesDue(now: now) { queue in max(0.5, min(Self.maxLeaseAge, (timeouts[queue] ?? 300) / 3)) }
        guard !due.isEmpty else { return }
        let renewed = try slot.run(stop: { self.isStopping }) {
            try JobStore(connection: $0).heartbeat(worker: id, ids: due)
        }
        ledger.leasesRenewed(due, at: now)
        if renewed < due.count && ledger.unfinishedCount(among: due) > 0 {
            log(.warning, "\(due.count - renewed) job lease(s) were lost (rescued elsewhere?); their results will be ignored")
        }
    }

    /// Quiet (stop claiming, keep running what is held) or resume, as the registry row says. The
    /// row is the truth: a worker that missed the command while disconnected follows it now.
    private func followQuiet(_ quiet: Bool) {
        let changed = shared.withLock { s -> Bool in
            let next: WorkerPoolSnapshot.Phase = quiet ? .quiet : .running
            guard s.phase == .running || s.phase == .quiet, s.phase != next else { return false }
            s.phase = next
            return true
        }
        guard changed else { return }
        if quiet {
            log(.info, "quieted: claiming no new jobs, finishing \(ledger.slotsInUse) held")
        } else {
            log(.info, "resumed: claiming jobs again")
            fetchWake.fire()
        }
    }

    /// A drain request: stop claiming, let in-flight jobs finish, then stop and exit.
    private func beginDrain() {
        let first = shared.withLock { s -> Bool in
            guard s.phase == .running || s.phase == .quiet else { return false }
            s.phase = .draining
            return true
        }
        guard first else { return }
        log(.info, "drain requested: finishing \(ledger.slotsInUse) job(s), then stopping")
        Thread {
            while self.ledger.slotsInUse > 0 && !self.isStopping { usleep(50_000) }
            self.stop(grace: 0)
        }.start()
    }

    // MARK: listener

    /// LISTEN queuetop_jobs and queuetop_cancel, checked on every new link (`Connection.listenChecked`): behind a
    /// transaction pooler nothing would ever arrive, so that is said once in the log and the
    /// fetchers find work by their poll (every `pollInterval`) instead.
    func listenLoop() {
        let reported = SpinningLock<Bool?>(nil)  // the last delivery state logged
        let slot = threadConnection("listener") { connection in
            let works = try connection.listenChecked(["queuetop_jobs", "queuetop_cancel"])
            self.cancelNotificationsWork.store(works, ordering: .relaxed)
            // A cancel notified while this link was down is lost: the poll looks at once.
            self.shared.withLock { $0.lastCancelPoll = .distantPast }
            let changed = reported.withLock { last in
                defer { last = works }
                return last != works && (last != nil || !works)
            }
            if changed {
                self.log(works ? .info : .warning,
                         works ? "notifications are delivered again; instant pickup is back" : Connection.notificationsLostMessage)
            }
            self.fetchWake.fire()  // we may have missed notifications while disconnected
        }
        let wanted = configuration.queues.map(Set.init)
        while !isStopping {
            do {
                let notifications = try slot.run(stop: { self.isStopping }) { connection in
                    try connection.waitForNotifications(timeout: 0.5)
                }
                let cancels = notifications.filter { $0.channel == "queuetop_cancel" }.map(\.payload)
                if !cancels.isEmpty { cancelNotified(cancels, on: slot) }
                if notifications.contains(where: { $0.channel == "queuetop_jobs" && (wanted == nil || wanted!.contains($0.payload)) }) {
                    fetchWake.fire()
                }
            } catch {
                continue
            }
        }
        slot.drop()
    }

    // MARK: shutdown

    /// After the grace period: wait for the loops to write what they can, hand back the
    /// unfinished jobs (release_jobs: not counted as an attempt), mark the registry row stopped.
    func finishStop(release ids: [JobID]) {
        maintenanceWake.close()
        flushWake.fire()
        if threads.wait(timeout: .now() + 20) == .timedOut {
            log(.error, "some worker threads did not stop within 20 s")
        }
        let slot = threadConnection("shutdown")
        var attempts = 0
        while attempts < 5 {
            attempts += 1
            do {
                let released = try slot.run(stop: { false }) { connection -> Int in
                    let n = ids.isEmpty ? 0 : try JobStore(connection: connection).release(worker: id, ids: ids)
                    try WorkerStore(connection: connection, workerID: id).deregister()
                    return n
                }
                if !ids.isEmpty { log(.info, "released \(released) unfinished job(s) back to pending") }
                break
            } catch where attempts == 5 {
                log(.error, "could not release \(ids.count) job(s) at shutdown: \(error); rescue will recover them")
            } catch {}
        }
        slot.drop()
        shared.withLock { $0.phase = .stopped }
        let counters = ledger.counters
        log(.info, "worker \(id) stopped: \(counters.processed) completed, \(counters.failed) failed")
    }
}

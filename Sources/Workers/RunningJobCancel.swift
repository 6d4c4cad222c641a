import Foundation
import Postgres
import QueueStore

/// Cancelling a running job (docs/WORKERS.md, "Cancelling a running job"): how the worker that
/// holds it learns of the request and stops the handler, and how a sql handler's backend is
/// recorded for the job view. No SQL here: WorkerStore.swift.
///
/// The worker learns of a request from NOTIFY queuetop_cancel (payload: the job id) on the
/// listener's connection, at once. Behind a transaction pooler LISTEN delivers nothing, so the
/// maintenance loop also asks worker_cancel_requests: every second when notifications do not
/// work, every `cancelPollWithListen` seconds when they do (a notification sent while the
/// listener was reconnecting is lost). It asks only while this worker holds a job.
extension WorkerPool {
    /// The safety-net poll interval while LISTEN works.
    static let cancelPollWithListen: TimeInterval = 10
    /// How often a worker on a database without migration 0020 looks again (after a migrate).
    static let cancelSupportRecheck: TimeInterval = 30

    /// Whether the database has 0020's functions; asked again every `cancelSupportRecheck` while
    /// it does not (a worker of this build may run before `queuetop migrate`).
    private func cancelSupported(_ slot: ManagedConnection) throws -> Bool {
        let now = Date()
        let (known, checkedAt) = shared.withLock { ($0.cancelSupported, $0.cancelSupportCheckedAt) }
        if known { return true }
        guard now.timeIntervalSince(checkedAt) >= Self.cancelSupportRecheck else { return false }
        let present = try slot.run(stop: { self.isStopping }) { try WorkerStore(connection: $0, workerID: id).hasRunningJobCancel() }
        shared.withLock { $0.cancelSupported = present; $0.cancelSupportCheckedAt = now }
        if !present && checkedAt == .distantPast {
            // Once, as information: an install one migration behind is a normal rolling upgrade.
            log(.info, "this database has no running-job cancel yet (migration 0020): run queuetop migrate; "
                + "until then an operator cannot cancel a running job on this worker")
        }
        return present
    }

    /// Stops the handlers of these jobs (an operator cancelled them). A running handler gets its
    /// cancellation flag set: a command's process group gets SIGTERM then SIGKILL, an HTTP request
    /// is aborted, a SQL statement is cancelled on the server; its failure is written by
    /// fail_jobs, which ends the job 'cancelled' (operator) with that partial output. A job
    /// claimed but not started is never started: release_jobs ends it cancelled.
    func cancelRequested(_ ids: [JobID], source: String) {
        guard !ids.isEmpty else { return }
        let (running, notStarted) = ledger.takeForCancel(ids)
        for flag in running { flag.cancel(.operatorRequest) }
        if !notStarted.isEmpty {
            work.remove(Set(notStarted))
            handBack.withLock { $0.append(contentsOf: notStarted) }
            fetchWake.fire()
        }
        if !running.isEmpty || !notStarted.isEmpty {
            log(.info, "cancelled by an operator (\(source)): stopping \(running.count) running job(s)"
                + (notStarted.isEmpty ? "" : ", \(notStarted.count) not started"))
        }
    }

    /// The poll fallback, called by the maintenance loop every second.
    func pollCancelRequests(_ slot: ManagedConnection) throws {
        guard !ledger.isEmpty, try cancelSupported(slot) else { return }
        let interval: TimeInterval = cancelNotificationsWork.load(ordering: .relaxed) ? Self.cancelPollWithListen : 0
        let now = Date()
        guard shared.withLock({ now.timeIntervalSince($0.lastCancelPoll) >= interval }) else { return }
        shared.withLock { $0.lastCancelPoll = now }
        let ids = try slot.run(stop: { self.isStopping }) { try WorkerStore(connection: $0, workerID: id).cancelRequests() }
        cancelRequested(ids, source: "poll")
    }

    /// Notifications on queuetop_cancel: each payload is a job id, which may be another worker's.
    /// A notification is only a hint to look now, never a request in itself: any role that can
    /// connect may NOTIFY any channel (PostgreSQL has no privilege for it), so stopping a handler
    /// on the payload alone would let a producer or a viewer kill running jobs without the
    /// audited cancel_job. The worker asks worker_cancel_requests on the listener's connection
    /// and stops only what the database says an operator asked for (cancel_requested_at set on a
    /// job this worker holds). Ids this worker does not hold cost no query, so a flood of forged
    /// notifications costs a lookup in the ledger each. If the database cannot be asked, the
    /// maintenance loop's poll asks on its next pass.
    func cancelNotified(_ payloads: [String], on slot: ManagedConnection) {
        let held = payloads.compactMap(JobID.init).filter { ledger.holds($0) }
        guard !held.isEmpty else { return }
        do {
            let asked = try slot.run(stop: { self.isStopping }) { try WorkerStore(connection: $0, workerID: id).cancelRequests() }
            cancelRequested(asked, source: "notification")
        } catch {
            shared.withLock { $0.lastCancelPoll = .distantPast }
        }
    }

    /// Called on the executor thread when a sql handler starts a job on a backend: written on the
    /// maintenance loop's next pass (within a second), not on the hot path.
    func handlerBackendStarted(_ job: JobID, pid: Int32) {
        handlerBackends.withLock { $0[job] = pid }
    }

    /// Writes the backends reported since the last pass, for the jobs still running here.
    func writeHandlerBackends(_ slot: ManagedConnection) throws {
        let reported = handlerBackends.withLock { pending in defer { pending = [:] }; return pending }
        let live = reported.filter { ledger.isRunning($0.key) }
        guard !live.isEmpty, try cancelSupported(slot) else { return }
        do {
            _ = try slot.run(stop: { self.isStopping }) {
                try WorkerStore(connection: $0, workerID: id).recordHandlerBackends(ids: Array(live.keys), pids: live.values.map { Int($0) })
            }
        } catch {
            handlerBackends.withLock { $0.merge(live) { newer, _ in newer } }
            throw error
        }
    }
}

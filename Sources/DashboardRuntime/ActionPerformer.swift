import Dashboard
import Foundation
import JobFilter
import Postgres
import QueueStore

/// Runs one confirmed `OperatorAction` through the stores and says what happened, in the words
/// the footer shows ("requeued 412 jobs from emails / smtp_error"). The SQL functions write
/// the audit rows themselves; the connection has been identified with the operator's
/// `user@host` (`AuditStore.identify`), so each row names who acted.
struct ActionPerformer {
    let connection: Connection

    func perform(_ action: OperatorAction) throws -> String {
        let dlq = DLQStore(connection: connection)
        let queues = QueueConfigStore(connection: connection)
        switch action {
        case .requeueGroup(let key, let reset, let asOf):
            // Without a pinned count (never via the reducer, which previews first) act on what
            // is dead now rather than on whatever dies while the batches run.
            let cutoff = try asOf ?? dlq.now()
            let result = try dlq.requeue(inGroup: key.queue, fingerprint: key.fingerprint, resetAttempts: reset, asOf: cutoff)
            return "requeued \(jobs(result.affected)) from \(key.label)\(reset ? " (attempts reset)" : "")"
                + (result.affected > 0 ? "; undo: audit #\(result.auditID)" : "")
        case .requeueJobs(let ids, let reset):
            if ids.count == 1 {
                // The single-job function says why it refuses (not dead-lettered, dedup key held).
                try dlq.requeue(id: ids[0], resetAttempts: reset)
                return "requeued 1 job\(reset ? " (attempts reset)" : "")"
            }
            let n = try dlq.requeue(ids: ids, resetAttempts: reset)
            return "requeued \(outOf(n, ids.count))\(reset ? " (attempts reset)" : "")"
        case .deleteGroup(let key, let asOf):
            let cutoff = try asOf ?? dlq.now()
            let n = try dlq.delete(inGroup: key.queue, fingerprint: key.fingerprint, asOf: cutoff)
            return "deleted \(jobs(n)) from \(key.label)"
        case .deleteJobs(let ids):
            return "deleted \(outOf(try dlq.delete(ids: ids), ids.count))"
        case .cancelMigration(let runID, let name):
            let result = try LeadMigrationStore(connection: connection).cancel(run: runID)
            if result.cancelled == 0 { return "lead migration \(name) was no longer running" }
            return "cancelled lead migration \(name): \(result.leadsMoved) leads moved (they stay), \(result.leadsNotMoved) not moved"
        case .pause(let queue):
            try queues.pause(queue)
            return "paused \(queue)"
        case .resume(let queue):
            try queues.resume(queue)
            return "resumed \(queue)"
        case .setConcurrency(let queue, let limit):
            try queues.setConcurrency(queue, limit)
            return "\(queue) concurrency set to \(limit.map(String.init) ?? "unlimited")"
        case .trigger(let queue):
            return "ran \(queue) now: \(jobs(try queues.runNow(queue))) due"
        case .setScheduleEnabled(let name, let enabled):
            let schedule = try ScheduleStore(connection: connection).setEnabled(name, enabled)
            // Enabling restarts the clock: say so, the operator may expect the missed ticks to run.
            return schedule.enabled ? "enabled schedule \(name) (ticks missed while disabled are not run)"
                : "disabled schedule \(name)"
        case .runSchedule(let name, let queue, let jobType):
            let id = try ScheduleStore(connection: connection).runNow(name)
            return "ran schedule \(name): enqueued \(jobType) job \(ShortJobID.of(id)) on \(queue)"
        case .triageGroup(let step, let key):
            let triage = TriageStore(connection: connection)
            let group = ErrorGroupRef(queue: key.queue, fingerprint: key.fingerprint)
            switch step {
            case .acknowledge: try triage.acknowledge(group)
            case .snooze(let seconds): try triage.snooze(group, until: try dlq.now().addingTimeInterval(Double(seconds)), above: nil)
            case .resolve: try triage.resolve(group)
            case .reopen: try triage.reopen(group)
            }
            let done = ["acknowledge": "acknowledged", "resolve": "resolved", "reopen": "reopened"][step.verb]
                ?? step.verb.replacingOccurrences(of: "snooze", with: "snoozed")
            return "\(done) \(key.label)"
        case .undoRequeue(let auditID):
            let n = try TriageStore(connection: connection).undoRequeue(auditID: auditID)
            return "undid requeue #\(auditID): \(jobs(n)) back in the DLQ"
        case .commandWorker(let kind, let id, let label):
            let changed = try WorkerFleetStore(connection: connection).command(kind, .worker(id))
            // 0: it changed state between the screen's refresh and the key (another operator).
            guard changed > 0 else { return "\(label) was no longer \(kind.appliesTo.joined(separator: " or ")): left as it was" }
            switch kind {
            case .quiet: return "quieted \(label): it claims no new jobs"
            case .resume: return "resumed \(label)"
            case .drain: return "draining \(label): it exits when its jobs finish"
            }
        case .cancelRunningJob(let id, let label):
            switch try JobStore(connection: connection).cancel(id: id) {
            case .cancelled: return "cancelled \(label)"
            case .cancelling: return "cancelling \(label): its worker is stopping the handler"
            }
        case .jobsByFilter, .jobsByID:
            return try performBulk(action)
        }
    }

    /// A Jobs-screen bulk action, in batches: `shouldStop` is asked between them (Esc), and
    /// `progress` hears after each. Says what was done, stopped or not; a batch that fails
    /// throws `JobBulkInterrupted` (how many were done before it).
    func performBulk(_ action: OperatorAction, shouldStop: () -> Bool = { false },
                     progress: (JobBulkProgress) -> Void = { _ in }) throws -> String {
        let store = JobBulkStore(connection: connection)
        switch action {
        case .jobsByFilter(let kind, let filter, let asOf, let priority):
            let preview = try bulkPreview(kind, filter: filter, ids: nil, asOf: asOf)
            let result = try store.apply(preview, priority: priority, shouldStop: shouldStop, progress: progress)
            let matching = filter.isEmpty ? "" : " matching \(filter.description)"
            return Self.bulkDone(kind, result, of: nil) + matching + Self.bulkTail(priority, result)
        case .jobsByID(let kind, let ids, let text, let asOf, let priority):
            let preview = try bulkPreview(kind, filter: (try? JobFilter.parse(text)) ?? JobFilter(), ids: ids, asOf: asOf)
            let result = try store.apply(preview, priority: priority, shouldStop: shouldStop, progress: progress)
            return Self.bulkDone(kind, result, of: ids.count) + Self.bulkTail(priority, result)
        default:
            return try perform(action)
        }
    }

    /// "cancelled 1,200 jobs", "stopped: cancelled 41,000 jobs", "made due now 3 of 5 marked".
    private static func bulkDone(_ kind: JobBulkAction, _ result: JobBulkResult, of marked: Int?) -> String {
        let n = JobBulkProgress.grouped(result.affected)
        let what = marked.map { "\(n) of \($0) marked" } ?? (result.affected == 1 ? "1 job" : "\(n) jobs")
        return (result.stopped ? "stopped: " : "") + "\(past(kind)) \(what)"
    }

    private static func bulkTail(_ priority: Int?, _ result: JobBulkResult) -> String {
        (priority.map { " to priority \($0)" } ?? "")
            + (result.stopped ? "; the rest were left as they were" : "") + " (audit #\(result.auditID))"
    }

    /// The preview a confirmed bulk action runs with: its pinned as-of (the count the operator
    /// saw), or, unpinned (never via the reducer), the server's now.
    private func bulkPreview(_ kind: JobBulkAction, filter: JobFilter, ids: [UUID]?, asOf: Date?) throws -> JobBulkPreview {
        let pinned = try asOf ?? DLQStore(connection: connection).now()
        return JobBulkPreview(action: kind, filter: filter, ids: ids, asOf: pinned, count: 0, sample: [])
    }

    static func past(_ kind: JobBulkAction) -> String {
        switch kind {
        case .runNow: "made due now"
        case .cancel: "cancelled"
        case .requeue: "requeued"
        case .delete: "deleted"
        case .priority: "reprioritised"
        }
    }

    /// Counts a confirmation dialog shows. Group actions are pinned to the server's clock at the
    /// moment of counting, so confirming touches exactly what was counted. Actions on jobs also
    /// return a sample: up to 5 of exactly the jobs they would touch.
    func preview(_ action: OperatorAction) throws -> (count: Int, asOf: Date, sample: [JobSummary]) {
        let dlq = DLQStore(connection: connection)
        switch action {
        case .jobsByFilter(let kind, let filter, _, _):
            let preview = try JobBulkStore(connection: connection).preview(kind, filter: filter)
            return (preview.count, preview.asOf, preview.sample)
        case .jobsByID(let kind, let ids, let text, _, _):
            let preview = try JobBulkStore(connection: connection).preview(kind, filter: (try? JobFilter.parse(text)) ?? JobFilter(), ids: ids)
            return (preview.count, preview.asOf, preview.sample)
        default:
            break
        }
        let asOf = try dlq.now()
        switch action {
        // Delete shows the same sample as requeue: it cannot be undone, so the operator must
        // see which jobs it takes.
        case .requeueGroup(let key, _, _), .deleteGroup(let key, _):
            let filter = DLQFilter(queue: key.queue, fingerprint: key.fingerprint)
            return (try dlq.count(filter, asOf: asOf), asOf, try dlq.sample(filter, asOf: asOf).map(JobSummary.init(deadLetter:)))
        case .requeueJobs(let ids, _), .deleteJobs(let ids):
            return (ids.count, asOf, try dlq.jobs(ids: Array(ids.prefix(5))).map(JobSummary.init(deadLetter:)))
        case .undoRequeue(let auditID):
            return (try TriageStore(connection: connection).undoableCount(auditID: auditID), asOf, [])
        case .cancelMigration, .pause, .resume, .setConcurrency, .trigger, .setScheduleEnabled, .runSchedule, .commandWorker,
             .triageGroup, .cancelRunningJob, .jobsByFilter, .jobsByID:
            return (1, asOf, [])
        }
    }

    /// A short label for failures: "requeue failed: …".
    static func verb(_ action: OperatorAction) -> String {
        switch action {
        case .requeueGroup, .requeueJobs: return "requeue"
        case .deleteGroup, .deleteJobs: return "delete"
        case .cancelMigration, .cancelRunningJob: return "cancel"
        case .pause: return "pause"
        case .resume: return "resume"
        case .setConcurrency: return "scale"
        case .trigger: return "run now"
        case .setScheduleEnabled(_, let enabled): return enabled ? "enable" : "disable"
        case .runSchedule: return "run schedule"
        case .commandWorker(let kind, _, _): return kind.rawValue
        case .triageGroup(let step, _): return step.verb
        case .undoRequeue: return "undo"
        case .jobsByFilter(let kind, _, _, _), .jobsByID(let kind, _, _, _, _): return kind.verb
        }
    }

    private func jobs(_ n: Int) -> String { n == 1 ? "1 job" : "\(n) jobs" }

    /// "5 jobs", or "3 of 5 jobs" when some were no longer in the DLQ (or their dedup key is held).
    private func outOf(_ n: Int, _ requested: Int) -> String {
        n == requested ? jobs(n) : "\(n) of \(jobs(requested)) (the others were no longer in the DLQ or their dedup key is active)"
    }
}

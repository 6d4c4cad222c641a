import Foundation
import Logging
import QueuetopLogging

extension WorkerPool {
    /// One event per finished job, with the fields docs/OBSERVABILITY.md lists. A completion is
    /// `debug` (a busy worker finishes thousands a second; `--log-level debug` shows them); a
    /// failure that will be retried is `warning`, one that sends the job to the DLQ is `error`.
    /// `tenant` is there when the job has one (claim_jobs returns it since 0018); it is a log
    /// field only, never a metric label (one series per tenant would be unbounded).
    func logJobEvent(_ job: WorkerJob, outcome: JobOutcome, nanoseconds: UInt64, cancelledByOperator: Bool = false) {
        // A completion is logged only at debug: decide that before building anything. The fields
        // below (five interpolations, a dictionary, Foundation's String(format:)) cost more than
        // a no-op job itself, and the default level drops the line anyway.
        if case .failed = outcome {} else if configuration.logger.logLevel > .debug { return }
        let level: Logger.Level
        var fields: Logger.Metadata = [
            LogField.jobID: "\(job.id.text)",
            LogField.queue: "\(job.queue)",
            LogField.type: "\(job.type)",
            LogField.attempt: "\(job.attempt)",
            LogField.durationMs: "\(String(format: "%.3f", Double(nanoseconds) / 1e6))",
        ]
        if let tenant = job.tenant { fields[LogField.tenant] = "\(tenant)" }
        let message: String
        switch outcome {
        case .completed, .completedWithResult:
            level = .debug
            fields[LogField.outcome] = "completed"
            message = "job \(job.id) (\(job.queue)/\(job.type)) completed"
        case let .failed(failure) where cancelledByOperator:
            // Not a failure of the job: an operator asked for it (fail_jobs ends it cancelled).
            level = .info
            fields[LogField.outcome] = "cancelled"
            fields[LogField.errorType] = "\(failure.errorType)"
            message = "job \(job.id) (\(job.queue)/\(job.type)) cancelled by an operator: \(failure.message)"
        case let .failed(failure):
            let dead = job.failsForGood(failure)
            level = dead ? .error : .warning
            fields[LogField.outcome] = dead ? "dead" : "retry"
            fields[LogField.errorType] = "\(failure.errorType)"
            fields[LogField.error] = "\(failure.message)"
            message = dead
                ? "job \(job.id) (\(job.queue)/\(job.type)) to DLQ: \(failure.errorType): \(failure.message)"
                : "job \(job.id) (\(job.queue)/\(job.type)) failed attempt \(job.attempt) of \(job.maxAttempts), will retry: \(failure.errorType): \(failure.message)"
        }
        log(level, message, fields)
    }
}

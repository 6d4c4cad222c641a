import Foundation
import Postgres

/// Whether this caller won the maintenance run, and when to ask again (migration 0005).
public struct MaintenanceClaim: Sendable, Equatable {
    public let claimed: Bool
    /// Seconds until the task could be due again (at least 1).
    public let nextCheckSeconds: Double
    public let batchSize: Int
    public let operationsRetentionSeconds: Int
}

/// What one retention run did.
public struct RetentionRun: Sendable, Equatable {
    public var jobsPruned = 0
    public var operationsPruned = 0
    /// Transactions it took (each one batch: short locks).
    public var batches = 0
    /// False when it stopped early (shutdown, or another worker took the run over).
    public var finished = false
    /// Where the job walk stands (the last id examined).
    var cursor: UUID?
    public init() {}
}

/// Retention that runs by itself: the worker pool calls `runRetentionIfDue` now and then; at
/// most one worker per interval (across every host) actually prunes, in short batches.
public struct MaintenanceStore: Sendable {
    public static let retentionTask = "retention"
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// Takes the task's run if it is due and nobody else is running it.
    public func claim(task: String = retentionTask, worker: String) throws -> MaintenanceClaim {
        let row = try connection.run("""
            SELECT claimed, next_check_s, batch_size, operations_retention_s FROM \(qt: "claim_maintenance")(\(task), \(worker))
            """)[0]
        return MaintenanceClaim(claimed: try row.decode("claimed"), nextCheckSeconds: try row.decode("next_check_s"),
                                batchSize: try row.decode("batch_size"),
                                operationsRetentionSeconds: try row.decode("operations_retention_s"))
    }

    /// One batch of the job walk: examines up to `batchSize` jobs after `after` (nil = the oldest)
    /// and deletes those past their queue's retention. `next` nil means the walk is over.
    public func pruneJobsBatch(after: UUID?, batchSize: Int) throws -> (pruned: Int, next: UUID?) {
        let row = try connection.run("SELECT pruned, next_after FROM \(qt: "prune_jobs_batch")(\(after)::uuid, \(batchSize))")[0]
        return (try row.decode("pruned"), try row.decode("next_after"))
    }

    /// Deletes up to `batchSize` bulk operations finished more than `olderThanSeconds` ago.
    public func pruneBulkOperations(olderThanSeconds: Int, batchSize: Int) throws -> Int {
        try connection.run("SELECT \(qt: "prune_bulk_operations")(\(olderThanSeconds), \(batchSize))").scalar()
    }

    /// Records a batch's counts on the run; false when the run is no longer this worker's.
    public func progress(task: String = retentionTask, worker: String, jobs: Int, operations: Int,
                         finished: Bool = false) throws -> Bool {
        try connection.run("SELECT \(qt: "maintenance_progress")(\(task), \(worker), \(jobs), \(operations), \(finished))").scalar()
    }

    /// Claims the retention run and, when this worker won it, prunes jobs then finished bulk
    /// operations. Each batch and its progress report are one short transaction, so locks last
    /// one batch and a crash midway leaves true counts (the next worker takes over after
    /// stale_after_s). `shouldStop` is checked between batches.
    public func runRetentionIfDue(worker: String, shouldStop: () -> Bool = { false }) throws -> (claim: MaintenanceClaim, run: RetentionRun?) {
        let claim = try claim(worker: worker)
        guard claim.claimed else { return (claim, nil) }
        var run = RetentionRun()
        /// Runs one batch with its progress report; false when the run must stop here.
        // A batch has no statement timeout: it may wait behind a lock (Patience.batch).
        func batch(jobs: Bool) throws -> (more: Bool, owned: Bool) {
            try connection.withPatience(.batch) { try connection.transaction { _ in
                if jobs {
                    let b = try pruneJobsBatch(after: run.cursor, batchSize: claim.batchSize)
                    run.cursor = b.next
                    run.jobsPruned += b.pruned
                    run.batches += 1
                    return (b.next != nil, try progress(worker: worker, jobs: b.pruned, operations: 0))
                }
                let n = try pruneBulkOperations(olderThanSeconds: claim.operationsRetentionSeconds, batchSize: claim.batchSize)
                run.operationsPruned += n
                run.batches += 1
                let more = n == claim.batchSize
                return (more, try progress(worker: worker, jobs: 0, operations: n, finished: !more))
            } }
        }
        for jobs in [true, false] {
            while true {
                if shouldStop() { return (claim, run) }
                let step = try batch(jobs: jobs)
                guard step.owned else { return (claim, run) }
                if !step.more { break }
            }
        }
        run.finished = true
        return (claim, run)
    }
}

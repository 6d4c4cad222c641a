import Foundation
import Postgres

/// A job a worker holds right now (status `processing`): what the workers screen's busy view
/// and `queuetop workers list --json` show.
public struct InFlightJob: Sendable, Equatable {
    public let id: UUID
    public let queue: String
    public let jobType: String
    public let tenant: String?
    /// The worker holding it (`job_queue.locked_by`).
    public let workerID: String
    public let startedAt: Date?
    /// The last lease renewal; a worker renews a lease when a third of its visibility timeout has
    /// passed, so an age well past that says the worker is stuck or gone.
    public let heartbeatAt: Date?

    public init(id: UUID, queue: String, jobType: String, tenant: String?, workerID: String,
                startedAt: Date?, heartbeatAt: Date?) {
        self.id = id; self.queue = queue; self.jobType = jobType; self.tenant = tenant
        self.workerID = workerID; self.startedAt = startedAt; self.heartbeatAt = heartbeatAt
    }
}

/// Which workers an operator command is for: one by id, every one on a host, or all of them.
public enum WorkerTarget: Sendable, Equatable {
    case worker(String)
    case host(String)
    case all
}

/// What an operator tells workers (60_workers.sql). Each becomes the worker's registry status,
/// which the worker reads on its next heartbeat (about a second).
public enum WorkerCommandKind: String, Sendable, CaseIterable {
    /// Stop claiming; keep running the jobs already held. Only running workers.
    case quiet
    /// Claim again. Only quiet workers.
    case resume
    /// Finish the jobs held, then exit 0. Running or quiet workers.
    case drain

    /// The statuses a command changes (a quiet worker is not quieted again).
    public var appliesTo: [String] {
        switch self {
        case .quiet: return ["running"]
        case .resume: return ["quiet"]
        case .drain: return ["running", "quiet"]
        }
    }
}

/// The fleet as an operator sees and steers it: the registry, the jobs each worker holds, and
/// quiet / resume / drain. Commands are audited by the SQL (one row each, naming the target and
/// the number of workers changed).
public struct WorkerFleetStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// At most this many in-flight jobs per worker: a screen shows far fewer, and a worker with
    /// a concurrency of thousands must not make every refresh read thousands of rows.
    public static let defaultJobsPerWorker = 100

    /// Every registered worker, newest activity first within a host: `worker_registry` (a
    /// worker silent for 30 s reads `lost`).
    public func list() throws -> [WorkerInfo] {
        try connection.run("""
            SELECT id, host, pid, queues, concurrency, in_flight, status, started_at, last_seen, buffered
            FROM \(qt: "worker_registry") ORDER BY host, pid, id
            """).map { row in
            WorkerInfo(id: try row.decode(0), host: try row.decode(1, as: String?.self), pid: try row.decode(2, as: Int?.self),
                       queues: try row.decode(3, as: [String]?.self) ?? [], concurrency: try row.decode(4, as: Int?.self),
                       inFlight: try row.decode(5), buffered: try row.decode(9, as: Int.self), status: try row.decode(6), startedAt: try row.decode(7),
                       lastSeen: try row.decode(8))
        }
    }

    /// The jobs workers hold now, oldest first per worker, at most `perWorker` each. Reads only
    /// in-flight rows (the partial index job_queue_processing_idx holds exactly those), so the
    /// cost follows the fleet's concurrency, never the size of the table.
    public func inFlightJobs(perWorker: Int = defaultJobsPerWorker) throws -> [InFlightJob] {
        try connection.run("""
            SELECT id, queue, job_type, tenant, locked_by, started_at, heartbeat_at
            FROM (SELECT id, queue, job_type, tenant, locked_by, started_at, heartbeat_at,
                         row_number() OVER (PARTITION BY locked_by ORDER BY started_at, id) AS n
                  FROM \(qt: "job_queue") WHERE status = 'processing' AND locked_by IS NOT NULL) held
            WHERE n <= \(max(1, perWorker))
            ORDER BY locked_by, started_at, id
            """).map { row in
            InFlightJob(id: try row.decode(0), queue: try row.decode(1), jobType: try row.decode(2),
                        tenant: try row.decode(3, as: String?.self), workerID: try row.decode(4),
                        startedAt: try row.decode(5, as: Date?.self), heartbeatAt: try row.decode(6, as: Date?.self))
        }
    }

    /// Runs a command; returns how many workers it changed (0: none was in a state it applies
    /// to). An unknown or stopped worker id throws `.notFound` / `.conflict` and changes nothing.
    @discardableResult
    public func command(_ kind: WorkerCommandKind, _ target: WorkerTarget) throws -> Int {
        let (worker, host): (String?, String?) = switch target {
        case .worker(let id): (id, nil)
        case .host(let h): (nil, h)
        case .all: (nil, nil)
        }
        let statement: Query = switch kind {
        case .quiet: "SELECT \(qt: "quiet_workers")(\(worker)::text, \(host)::text)"
        case .resume: "SELECT \(qt: "resume_workers")(\(worker)::text, \(host)::text)"
        case .drain: "SELECT \(qt: "drain_workers")(\(worker)::text, \(host)::text)"
        }
        return try connection.run(statement).scalar(Int.self)
    }
}

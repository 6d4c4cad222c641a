import Dashboard
import Foundation
import Postgres
import QueueStore

/// The dashboard's database thread: takes `Effect`s from a mailbox, runs them on its own
/// connection through the QueueStore stores, and posts the answers as `Message`s to the inbox.
/// The drawing thread only ever posts and drains, so it never waits on the database.
///
/// When the database is unreachable a load answers `.disconnected` with a jittered backoff
/// delay; the reducer's tick asks for `.refresh` again when it is due, and the next successful
/// refresh clears the banner. The reason shown comes from `PostgresError`, which never carries
/// the password.
public final class EffectRunner: Sendable {
    private let mailbox = EffectMailbox()
    private let inbox: Inbox
    private let database: ManagedConnection
    /// Where previews and actions go when that is not `database`: a context's primary while
    /// `database` is its replica. nil: everything over `database`.
    private let actions: ManagedConnection?
    private let clock: @Sendable () -> Date
    private let finished = DispatchSemaphore(value: 0)
    private let backoff = LockedBackoff()
    private let readOnly: Bool
    /// Jobs-screen bulk actions run here, beside this thread, on their own connection.
    private let bulk: BulkJobRunner

    /// - Parameters:
    ///   - actor: the operator's `user@host`, sent as the connection's `application_name`, which
    ///     the audit rows of actions keep as their client label.
    ///   - readOnly: every effect runs in a `BEGIN READ ONLY` transaction (`--read-only`), so
    ///     not even a bug could write through it. Per transaction, not the session default
    ///     (`SET default_transaction_read_only`): behind a transaction pooler a session setting
    ///     stays on the pooled server connection and makes every other client's writes fail.
    ///   - actions: the primary, when reads go to a replica (a context with `replica`): counts
    ///     for confirmations and the actions themselves run there, so the audit row is written
    ///     in the database that changed.
    public init(database config: ConnectionConfig, actions: ConnectionConfig? = nil, actor: String, readOnly: Bool, inbox: Inbox,
                clock: @escaping @Sendable () -> Date = Date.init) {
        self.inbox = inbox
        self.clock = clock
        self.readOnly = readOnly
        var config = config
        config.applicationName = OperatorIdentity.applicationName(actor: actor)
        self.database = ManagedConnection(config: config)
        self.actions = actions.map { primary in
            var primary = primary
            primary.applicationName = OperatorIdentity.applicationName(actor: actor)
            return ManagedConnection(config: primary)
        }
        self.bulk = BulkJobRunner(config: self.actions?.config ?? self.database.config, inbox: inbox, clock: clock)
    }

    public func start() {
        let thread = Thread { [self] in
            while let effect = mailbox.take() {
                inbox.post(run(effect))
            }
            database.drop()
            actions?.drop()
            finished.signal()
        }
        thread.name = "queuetop-dashboard-db"
        thread.start()
    }

    /// Queues effects for the database thread (`.quit` is the caller's business and ignored).
    /// Never blocks on the database.
    public func post(_ effects: [Effect]) {
        var queued: [Effect] = []
        for effect in effects where effect != .quit && !effect.isTerminalSide {
            switch effect {
            case .stopBulk:
                // At once, not behind a slow load: the batch in flight is the last one.
                bulk.stop()
            case .perform(let action) where action.bulkKind != nil:
                if readOnly {
                    inbox.post([.bulkEnded("read-only: \(ActionPerformer.verb(action)) was not run", failed: true, at: clock())])
                } else {
                    bulk.start(action)
                }
            default:
                queued.append(effect)
            }
        }
        mailbox.post(queued)
    }

    /// Lets the effect in progress and any confirmed action still waiting finish, closes the
    /// connection and ends the thread. Returns false if that took longer than `timeout`.
    @discardableResult
    public func stop(timeout: Double = 10) -> Bool {
        mailbox.close()
        // A running bulk action ends after its batch in flight (its audit row says "stopped").
        let bulkEnded = bulk.stopAndWait(timeout: timeout)
        return finished.wait(timeout: .now() + timeout) == .success && bulkEnded
    }

    /// Runs one effect and says what came of it. Never throws: every failure becomes a message.
    func run(_ effect: Effect) -> [Message] {
        do {
            let link: ManagedConnection
            switch effect {
            case .preview, .perform: link = actions ?? database
            default: link = database
            }
            let messages = try link.run { connection in
                guard readOnly else { return try execute(effect, on: connection) }
                return try connection.readOnlyTransaction { try execute(effect, on: $0) }
            }
            if effect == .refresh { backoff.reset() }
            return messages
        } catch let error as PostgresError where error.isConnectionProblem {
            return connectionLost(error, during: effect)
        } catch {
            return [.actionFailed(failureText(effect, error), at: clock())]
        }
    }

    private func execute(_ effect: Effect, on connection: Connection) throws -> [Message] {
        let dlq = DLQStore(connection: connection)
        switch effect {
        case .refresh:
            // Every screen's refresh: no per-type figures (queue detail reads its queue's apart).
            let snapshot = try HealthStore(connection: connection).snapshot(types: .none).snapshot
            let standby = try ServerRoleStore(connection: connection).standby()
            return [.snapshotLoaded(snapshot, at: clock()), .standbyLoaded(standby)] + (try alertHookSummary(connection))
                + (try chartMarks(connection))
        case .loadDLQGroups:
            return [.dlqGroupsLoaded(try dlq.groups())]
        case .loadDLQJobs(let key):
            return [.dlqJobsLoaded(key, try dlq.jobs(inGroup: key.queue, fingerprint: key.fingerprint))]
        case .findJob(let text):
            return [.jobFound(text, try JobStore(connection: connection).lookUp(text))]
        case .loadJobDetail(let id):
            // nil is an answer, not a failure: the reducer says "no job …" or "no longer in the DLQ".
            guard let job = try JobStore(connection: connection).inspect(id: id) else { return [.jobDetailLoaded(id, nil)] }
            let attempts = try dlq.attempts(jobID: id).map {
                JobDetail.Attempt(attempt: $0.attempt, errorType: $0.errorType, message: $0.message,
                                  worker: $0.worker, failedAt: $0.failedAt)
            }
            // A running sql-handler job: its backend, as far as this role may see it.
            let backend = try job.status == "processing" ? job.handlerBackendPID.flatMap {
                try JobStore(connection: connection).backend(pid: $0)
            } : nil
            return [.jobDetailLoaded(id, JobDetail(job: job, attempts: attempts, backend: backend))]
        case .loadAudit:
            return [.auditLoaded(try AuditStore(connection: connection).list(limit: 500))]
        case .loadSchedules:
            return [.schedulesLoaded(try ScheduleStore(connection: connection).list())]
        case .loadTimeline:
            return [.timelineLoaded(try TimelineStore(connection: connection).list(since: clock().addingTimeInterval(-86_400),
                                                                                   limit: 500))]
        case .loadQueueTenants(let queue):
            return [.queueTenantsLoaded(try QueueTenantStore(connection: connection).report(queue: queue))]
        case .loadQueueTypes(let queue):
            return [.queueTypesLoaded(queue, try HealthStore(connection: connection).queueTypes(queue))]
        case .loadJobs(let request):
            let started = DispatchTime.now()
            let search = JobSearchStore(connection: connection)
            let page = try search.search(request)
            // Exact up to 10,000, then "≥ 10,000": one refresh must stay cheap at any size.
            let count = try search.count(request.filter, cap: 10_000, window: request.window, timeout: request.timeout)
            let took = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            return [.jobsLoaded(request, page, count, took: took)]
        case .loadWorkerJobs:
            return [.workerJobsLoaded(try WorkerFleetStore(connection: connection).inFlightJobs())]
        case .preview(let action):
            let (count, asOf, sample) = try ActionPerformer(connection: connection).preview(action)
            return [.previewCounted(action, count: count, asOf: asOf, sample: sample)]
        case .perform(let action):
            let text = try ActionPerformer(connection: connection).perform(action)
            return [.actionFinished(text, at: clock())]
        case .quit, .dumpScreen, .copy, .switchContext, .stopBulk:
            // The drawing thread's or the session's business (DashSession), or taken by `post`.
            return []
        }
    }

    /// The charts' marks: two small indexed reads (TimelineStore.chartMarks, 0.4 ms with 20k
    /// marks and 100k alert events), with every refresh so the overview and queue detail draw
    /// them. They are an extra: a database from before 0022 (no marks table) or any other
    /// failure leaves the charts without glyphs rather than flashing an error every refresh.
    private func chartMarks(_ connection: Connection) throws -> [Message] {
        do {
            return [.chartMarksLoaded(try TimelineStore(connection: connection).chartMarks(since: clock().addingTimeInterval(-86_400)))]
        } catch let error as PostgresError where error.isConnectionProblem {
            throw error
        } catch {
            return []
        }
    }

    /// The alert hook line of the overview. Its failure must not cost the operator the snapshot
    /// already read: the overview keeps the previous line (a lost link still counts as lost).
    private func alertHookSummary(_ connection: Connection) throws -> [Message] {
        do {
            return [.alertHooksLoaded(try AlertHookStore(connection: connection).summary())]
        } catch let error as PostgresError where error.isConnectionProblem {
            throw error
        } catch {
            return []
        }
    }

    /// The link is down. Loads report `.disconnected` (banner, stale data, automatic retry).
    /// An action may or may not have committed before the link broke, so the operator is told
    /// to check rather than told it failed — and it is never retried on its own.
    private func connectionLost(_ error: PostgresError, during effect: Effect) -> [Message] {
        let now = clock()
        let disconnected = Message.disconnected(reason: error.description, retryIn: backoff.next(), at: now)
        guard case .perform(let action) = effect else { return [disconnected] }
        let verb = ActionPerformer.verb(action)
        return [.actionFailed("\(verb): connection lost (\(error.description)); it may not have been done — check the Audit screen (6) before retrying", at: now),
                disconnected]
    }

    private func failureText(_ effect: Effect, _ error: Error) -> String {
        switch effect {
        case .perform(let action): return "\(ActionPerformer.verb(action)) failed: \(error)"
        case .preview(let action): return "cannot count for \(ActionPerformer.verb(action)): \(error)"
        case .refresh: return "refresh failed: \(error)"
        case .loadDLQGroups, .loadDLQJobs: return "cannot load the DLQ: \(error)"
        case .loadJobDetail, .findJob: return "cannot load the job: \(error)"
        case .loadAudit: return "cannot load the audit log: \(error)"
        case .loadSchedules: return "cannot load the schedules: \(error)"
        case .loadTimeline: return "cannot load the timeline: \(error)"
        case .dumpScreen, .copy: return "\(error)"
        case .loadQueueTenants(let queue): return "cannot load the tenants of \(queue): \(error)"
        case .loadQueueTypes(let queue): return "cannot load the job types of \(queue): \(error)"
        case .loadWorkerJobs: return "cannot load the workers' jobs: \(error)"
        case .loadJobs: return "cannot search jobs: \(error)"
        case .quit, .switchContext, .stopBulk: return "\(error)"
        }
    }
}

/// Reconnect delays for the banner: 1 s doubling to 15 s, jittered so many dashboards do not
/// hammer a restarting server in step. Locked because `stop` may race the thread.
private final class LockedBackoff: @unchecked Sendable {  // all state behind `lock`
    private let lock = NSLock()
    private var backoff = Backoff(initial: 1, maximum: 15)
    func next() -> Double { lock.withLock { backoff.next() } }
    func reset() { lock.withLock { backoff.reset() } }
}

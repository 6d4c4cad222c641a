import Foundation
import JobFilter
import QueueStore

/// The screens, in tab order; number keys 1–9 and 0 switch between them. The raw value is the
/// key: the Timeline is the last tab and answers to 0, as on a keyboard's number row.
public enum Screen: Int, CaseIterable, Sendable, Equatable {
    case overview = 1, queue, dlq, leads, workers, audit, schedules, log, jobs
    case timeline = 0

    /// The number key that opens the screen, as the tab line shows it.
    public var key: String { String(rawValue) }

    public var title: String {
        switch self {
        case .overview: return "Overview"
        case .queue: return "Queue"
        case .dlq: return "DLQ"
        case .leads: return "Leads"
        case .workers: return "Workers"
        case .audit: return "Audit"
        case .schedules: return "Schedules"
        case .log: return "Log"
        case .jobs: return "Jobs"
        case .timeline: return "Timeline"
        }
    }

    /// The name on the tab line when the full names do not fit (80 columns): short enough that
    /// all ten tabs keep a word, the ones already short unchanged.
    public var shortTitle: String {
        switch self {
        case .overview: return "Over"
        case .workers: return "Wkrs"
        case .schedules: return "Sched"
        case .timeline: return "Time"
        default: return title
        }
    }
}

/// Which group of dead-letter jobs is open: one queue and one error fingerprint (error type plus
/// normalised message). The error type rides along for the labels dialogs show.
public struct DLQGroupKey: Sendable, Hashable {
    public var queue: String
    public var fingerprint: String
    public var errorType: String?
    public init(queue: String, fingerprint: String, errorType: String? = nil) {
        self.queue = queue; self.fingerprint = fingerprint; self.errorType = errorType
    }
    public init(_ group: DLQGroup) { self.init(queue: group.queue, fingerprint: group.fingerprint, errorType: group.errorType) }
}

/// Where DLQ triage is: groups -> jobs of a group -> one job.
public enum DLQLevel: Sendable, Equatable {
    case groups
    case jobs(DLQGroupKey)
    case job(DLQGroupKey, UUID)
}

/// Is the database reachable? Drives the "disconnected — retrying in Ns" banner.
public enum ConnectionStatus: Sendable, Equatable {
    case connecting
    case connected
    /// The last refresh failed; the data on screen is stale. `retryAt` is when the next try is.
    case disconnected(reason: String, retryAt: Date)
}

/// Something the operator asked for that changes the database.
public enum OperatorAction: Sendable, Equatable {
    /// Requeue every job of a group that was dead-lettered at or before `asOf` (what was previewed).
    case requeueGroup(DLQGroupKey, resetAttempts: Bool, asOf: Date?)
    case requeueJobs([UUID], resetAttempts: Bool)
    case deleteGroup(DLQGroupKey, asOf: Date?)
    case deleteJobs([UUID])
    case cancelMigration(runID: UUID, name: String)
    case pause(queue: String)
    case resume(queue: String)
    case setConcurrency(queue: String, limit: Int?)
    case trigger(queue: String)
    /// Enabling restarts the schedule's clock (missed ticks are not run); disabling stops it.
    case setScheduleEnabled(name: String, enabled: Bool)
    /// Enqueues the schedule's job once, now; what it enqueues is carried for the question.
    case runSchedule(name: String, queue: String, jobType: String)
    /// Quiet, resume or drain one worker; `label` ("host pid 123") is what the question names.
    case commandWorker(WorkerCommandKind, workerID: String, label: String)
    /// Cancel one job that is running (or still pending): its worker stops the handler and the
    /// job ends cancelled (operator). `label` ("send_email job 9bc7bfa9 on emails") is what the
    /// question names. The one action for it: the job view, the busy view and the jobs screen.
    case cancelRunningJob(UUID, label: String)
    /// Acknowledge, snooze, resolve or reopen an error group (docs/TRIAGE.md).
    case triageGroup(GroupTriage, DLQGroupKey)
    /// Put the not-yet-started jobs of the requeue audited as `auditID` back in the DLQ.
    case undoRequeue(auditID: Int64)
    /// A bulk action on every job the filter matches (the Jobs screen's filter and state tab),
    /// pinned to the moment its count was taken. `priority`: the new priority of `.priority`.
    case jobsByFilter(JobBulkAction, JobFilter, asOf: Date?, priority: Int? = nil)
    /// A bulk action on the marked jobs; `filterText` is the filter they were found with (audited).
    case jobsByID(JobBulkAction, [UUID], filterText: String, asOf: Date?, priority: Int? = nil)

    /// Destructive or bulk actions ask first, and so does enqueueing a job the operator cannot
    /// take back.
    public var needsConfirmation: Bool {
        switch self {
        case .requeueGroup, .requeueJobs, .deleteGroup, .deleteJobs, .cancelMigration, .runSchedule, .commandWorker,
             .cancelRunningJob, .undoRequeue, .jobsByFilter, .jobsByID: return true
        case .pause, .resume, .setConcurrency, .trigger, .setScheduleEnabled, .triageGroup: return false
        }
    }
}

/// The lifecycle steps of an error group the dashboard's keys take (a, z, x, o).
public enum GroupTriage: Sendable, Equatable {
    case acknowledge
    /// Snoozed for this long (the dashboard's `z`: one hour; the CLI takes any time or a count).
    case snooze(seconds: Int)
    case resolve
    case reopen
}

/// A confirmation dialog. `count` is nil while the exact number is being counted, so the
/// operator never confirms a bulk action without seeing how many rows it touches. `sample`:
/// up to 5 of exactly the jobs it would touch, newest first (a DLQ requeue's and a Jobs-screen
/// bulk action's alike), shown under the question.
public struct Confirmation: Sendable, Equatable {
    public var action: OperatorAction
    public var count: Int?
    public var sample: [JobSummary]
    /// The context the action goes to (nil: `--db`); the question names it.
    public var context: String?
    public init(action: OperatorAction, count: Int? = nil, sample: [JobSummary] = [], context: String? = nil) {
        self.action = action; self.count = count; self.sample = sample; self.context = context
    }
}

/// A Jobs-screen bulk action running in batches on its own connection: the footer's progress
/// line ("cancelling 41,000 / 100,000 · 8.2k/s · 5s — Esc stops after this batch"). The rest of
/// the dashboard goes on meanwhile; Esc asks it to stop between batches.
public struct BulkRun: Sendable, Equatable {
    /// The last report (after the latest batch); done 0 until the first one.
    public var progress: JobBulkProgress
    /// When it was confirmed (the dashboard's clock), so the elapsed time counts on between reports.
    public var startedAt: Date
    /// Esc was pressed: it ends after the batch in flight.
    public var stopping = false
    public init(progress: JobBulkProgress, startedAt: Date, stopping: Bool = false) {
        self.progress = progress; self.startedAt = startedAt; self.stopping = stopping
    }
}

/// A one-line result shown in the footer for a few seconds ("requeued 412 jobs").
public struct Flash: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case info, success, error }
    public var text: String
    public var kind: Kind
    public var at: Date
    public init(_ text: String, kind: Kind, at: Date) { self.text = text; self.kind = kind; self.at = at }
}

/// Everything the dashboard shows. Views read it; only `reduce` changes it.
public struct DashboardState: Sendable, Equatable {
    public var screen: Screen = .overview
    public var snapshot: HealthSnapshot?
    /// nil until the first refresh answers; the overview shows the latest delivery when hooks exist.
    public var alertHooks: AlertHookSummary?
    public var lastRefreshAt: Date?
    public var now: Date
    public var connection: ConnectionStatus = .connecting
    public var refreshInterval: Double = 2
    public var refreshPaused = false
    public var readOnly: Bool
    /// LISTEN does not work on this connection (a transaction pooler): changes are found by
    /// polling, and the footer says "no LISTEN".
    public var notificationsLost = false
    /// Why the session is read-only when the operator did not ask for it ("role … may not run
    /// operator actions"); shown when the dashboard opens and when an action is refused.
    public var readOnlyReason: String?
    /// The server is a hot standby (nil: a primary), read with every refresh: the footer shows
    /// how far replay is behind, and the data is as of its last replayed transaction.
    public var standby: StandbyStatus?

    /// Selection by identity, not index, so a refresh that reorders rows keeps the same row.
    public var selectedQueue: String?
    public var cursor: [Screen: Int] = [:]
    public var dlqLevel: DLQLevel = .groups
    public var dlqGroups: [DLQGroup] = []
    public var dlqJobs: [DLQJob] = []
    /// The dead-letter job open in the DLQ screen (`DLQLevel.job`).
    public var jobDetail: JobDetail?
    /// `:job ID`: a job of any status, drawn over the current screen until Esc.
    public var openedJob: OpenedJob?
    /// First line shown in the job detail on screen (the opened job's, else the DLQ job's);
    /// always within `0...detailViewport.maxOffset` once the view has measured the pane (before
    /// that, `G` parks it past the end and the first measurement pulls it back).
    public var detailScroll = 0
    /// The scrolling pane (payload, result, error details, attempts) as last drawn, fed back by the runtime (`.detailViewportMeasured`):
    /// only the view knows how many rows the layout leaves for it.
    public var detailViewport: DetailViewport?
    public var marked: Set<UUID> = []
    public var audit: [AuditEntry] = []
    /// nil until the Schedules screen's first load answers: "none yet" must not read as "none".
    public var schedules: [Schedule]?
    /// The Timeline screen's entries (last 24 h, newest first); nil until its first load answers.
    public var timeline: [TimelineEntry]?
    /// Deploy marks and alerts that fired in the last 24 h, for the glyphs on the hourly charts
    /// (loaded with every refresh).
    public var chartMarks: [TimelineEntry] = []
    /// The audit row the Timeline opened (Enter): the Audit screen puts its cursor there once
    /// its list has loaded.
    public var auditFocus: Int64?
    /// The jobs workers hold now (the Workers screen's busy view), loaded only while that screen
    /// is open; bounded per worker (`WorkerFleetStore.defaultJobsPerWorker`).
    public var workerJobs: [InFlightJob] = []
    /// The worker whose in-flight jobs have the cursor (Enter on a worker); nil while the cursor
    /// is on the workers themselves.
    public var busyWorker: String?
    /// Tenant caps, top tenants and expired counts of the last queue whose detail was open
    /// (its `queue` says which: views show it only for that queue, never for another).
    public var queueTenants: QueueTenantReport?
    /// Per-type figures of the last queue whose detail was open, and which queue: the per-tick
    /// snapshot carries none, so `focusedQueue` lays these over that queue's snapshot row.
    public var queueTypes: QueueTypesReading?
    /// The embedded worker pool's recent events (bounded by the runtime's ring), oldest first.
    public var poolLog: [PoolLogLine] = []
    /// Why the embedded pool did not start (a bad handler config, a missing secret variable):
    /// shown in the footer for the whole session and as the Log screen's first line.
    public var poolStartupError: String?
    /// The Jobs screen: its state tab, filter, page and sort.
    public var jobs = JobsExplorer()
    /// The contexts file's databases, the current one, the `:ctx` list and the all view.
    public var contexts = ContextsState()

    /// `/` filter per screen; `filterEditing` while the operator types it.
    public var filter: [Screen: String] = [:]
    public var filterEditing = false
    /// `:` command line being typed, nil when closed.
    public var commandLine: String?
    public var confirmation: Confirmation?
    /// The bulk action running now, if any (one at a time).
    public var bulk: BulkRun?
    public var flash: Flash?
    public var showHelp = false
    /// The first line of help shown: on 80x24 the keys and the `:` commands do not all fit, so
    /// j k PgUp PgDn g G scroll it. Kept within what the overlay can show by the viewport the
    /// runtime measures (`.detailViewportMeasured`, which reports help's pane while it is open).
    public var helpScroll = 0
    public var quitting = false

    public init(now: Date, readOnly: Bool = false) {
        self.now = now
        self.readOnly = readOnly
    }

    public static let minimumInterval = 0.5
    public static let maximumInterval = 60.0
}

/// How far the job-detail payload can scroll at the current terminal size, and how many of its
/// lines one screenful shows (a PgUp/PgDn step).
/// One queue's per-type figures as queue detail read them (`HealthStore.queueTypes`); `types`
/// nil when the queue no longer existed.
public struct QueueTypesReading: Sendable, Equatable {
    public var queue: String
    public var types: [TypeHealth]?

    public init(queue: String, types: [TypeHealth]?) { self.queue = queue; self.types = types }
}

public struct DetailViewport: Sendable, Equatable {
    public var maxOffset: Int
    public var visibleRows: Int
    public init(maxOffset: Int, visibleRows: Int) {
        self.maxOffset = max(0, maxOffset)
        self.visibleRows = max(1, visibleRows)
    }
}

/// One job with everything the detail view shows, whatever its status: the job row (timings,
/// tenant, expiry, result, error, payload) and the history of its failed attempts.
public struct JobDetail: Sendable, Equatable {
    public struct Attempt: Sendable, Equatable {
        public var attempt: Int
        public var errorType: String?
        public var message: String?
        public var worker: String?
        public var failedAt: Date
        public init(attempt: Int, errorType: String?, message: String?, worker: String?, failedAt: Date) {
            self.attempt = attempt; self.errorType = errorType; self.message = message; self.worker = worker; self.failedAt = failedAt
        }
    }
    public var job: JobInspection
    public var attempts: [Attempt]
    /// A running sql-handler job's backend as this role sees it; nil when the job has no
    /// backend recorded, or when the backend is gone (then `job.handlerBackendPID` says which).
    public var backend: JobBackend?
    public init(job: JobInspection, attempts: [Attempt], backend: JobBackend? = nil) {
        self.job = job; self.attempts = attempts; self.backend = backend
    }
}

/// A job opened by id (`:job ID`) over whatever the operator was looking at. The screen, DLQ
/// level, cursors and filters underneath stay as they were, so Esc returns exactly there.
public struct OpenedJob: Sendable, Equatable {
    public var id: UUID
    /// nil while the first load is on its way ("loading…").
    public var detail: JobDetail?
    /// The scroll of the DLQ job detail underneath, if one was open, given back on Esc.
    public var scrollBehind: Int
    public init(id: UUID, detail: JobDetail? = nil, scrollBehind: Int = 0) {
        self.id = id; self.detail = detail; self.scrollBehind = scrollBehind
    }
}

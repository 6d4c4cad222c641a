import Foundation
import QueueStore

/// Everything that can happen to the dashboard: keys, time, and answers from the database thread.
public enum Message: Sendable {
    case key(Key)
    case tick(Date)
    case snapshotLoaded(HealthSnapshot, at: Date)
    /// Whether the server is a hot standby and how its replay stands (nil: a primary), loaded
    /// with every refresh.
    case standbyLoaded(StandbyStatus?)
    /// Alert hooks and their latest delivery, loaded with every refresh.
    case alertHooksLoaded(AlertHookSummary)
    /// A load failed because the database is unreachable; the next try is in `retryIn` seconds.
    case disconnected(reason: String, retryIn: Double, at: Date)
    case dlqGroupsLoaded([DLQGroup])
    case dlqJobsLoaded(DLQGroupKey, [DLQJob])
    /// One job and its attempts; nil when no job has this id (never enqueued, or pruned).
    case jobDetailLoaded(UUID, JobDetail?)
    /// What `:job TEXT` named, when TEXT was part of an id: one job, none, or several.
    case jobFound(String, JobLookup)
    case auditLoaded([AuditEntry])
    case schedulesLoaded([Schedule])
    case timelineLoaded([TimelineEntry])
    /// Deploy marks and alerts fired in the last 24 h, for the hourly charts (with every refresh).
    case chartMarksLoaded([TimelineEntry])
    /// The terminal side did what `:dump` or `y` asked (ok) or could not (the text says why).
    case terminalEffectDone(String, ok: Bool, at: Date)
    /// Queue detail's tenant caps, top tenants by backlog and expired counts.
    case queueTenantsLoaded(QueueTenantReport)
    /// Queue detail's per-type figures of one queue (nil: the queue no longer exists).
    case queueTypesLoaded(String, [TypeHealth]?)
    /// The jobs every worker holds now (busy view), oldest first per worker.
    case workerJobsLoaded([InFlightJob])
    /// The embedded pool's recent events, oldest first (all of them, not a delta).
    case poolLogUpdated([PoolLogLine])
    /// The view drew the job-detail payload pane with this room (nil: no payload on screen).
    /// Sent by the runtime after a frame whenever it differs from `state.detailViewport`.
    case detailViewportMeasured(DetailViewport?)
    /// The exact number of rows a confirmation would touch, counted as of `asOf`, and up to 5
    /// of exactly those jobs (none for actions without a job list).
    case previewCounted(OperatorAction, count: Int, asOf: Date, sample: [JobSummary] = [])
    /// A running bulk action finished a batch: how far it is now.
    case bulkProgressed(JobBulkProgress)
    /// The bulk action ended: done, stopped between batches (`failed` false), or stopped by an
    /// error (`failed` true); the text says how many jobs changed either way.
    case bulkEnded(String, failed: Bool, at: Date)
    /// A page of the Jobs screen for `request`, the count of everything it matches, and how long
    /// the two queries took (seconds).
    case jobsLoaded(JobSearchRequest, JobSearchPage, JobCount?, took: Double = 0)
    /// The database announced a change (NOTIFY queuetop_changed, already coalesced by the
    /// listener): reload what is on screen now instead of at the next interval.
    case changed(at: Date)
    /// The listener found that notifications do (true) or do not (false: a transaction pooler)
    /// reach its connection; without them the dashboard polls and its footer says so.
    case notificationsDelivered(Bool)
    case actionFinished(String, at: Date)
    case actionFailed(String, at: Date)
    /// A context's own poller read its summary (the all view and the `:ctx` list).
    case contextRefreshed(String, HealthSummary, StandbyStatus?, at: Date)
    /// A context's poller could not read there; it retries on its own schedule.
    case contextUnreachable(String, reason: String, at: Date)
    /// A `:ctx` switch is done: the session now reads and acts on this context.
    case contextSwitched(ContextSwitch)
    case contextSwitchFailed(String, reason: String, at: Date)
}

/// Work for the database thread. The reducer only asks; the runner does it and answers with a
/// `Message`.
public enum Effect: Sendable, Equatable {
    /// Reload the health snapshot (and the alert hook summary and chart marks that go with it).
    case refresh
    case loadDLQGroups
    case loadDLQJobs(DLQGroupKey)
    /// One job, whatever its status, with its failed attempts: the DLQ's job level and `:job`.
    case loadJobDetail(UUID)
    /// `:job` with part of an id (the short id a screen shows, a prefix): find the job first.
    case findJob(String)
    case loadAudit
    case loadSchedules
    case loadTimeline
    /// `:dump FILE` (`:dump! FILE` overwrites): the screen as drawn now, as plain text. Done by
    /// the drawing thread, which holds the frame; never reaches the database thread.
    case dumpScreen(path: String, overwrite: Bool)
    /// `y`: put `text` on the terminal's clipboard (OSC 52) where the terminal accepts it;
    /// `what` names it in the footer ("job id", "payload"). Done by the drawing thread.
    case copy(text: String, what: String)
    /// Queue detail's tenant report for one queue. Only while that screen is open: ranking
    /// tenants costs a query that the other screens' refreshes must not pay.
    case loadQueueTenants(String)
    /// Queue detail's per-type figures for one queue. Only while that screen is open: the
    /// per-tick snapshot reads none (docs/HEALTH.md, "Per-type figures"), so the refresh the
    /// other screens pay stays what it was before per-type figures existed.
    case loadQueueTypes(String)
    /// The Workers screen's busy view: in-flight jobs per worker. Only while that screen is open.
    case loadWorkerJobs
    /// The Jobs screen's page (and count) for this request. Only while that screen is open.
    case loadJobs(JobSearchRequest)
    /// Count what an action would touch, for its confirmation dialog.
    case preview(OperatorAction)
    case perform(OperatorAction)
    /// Esc during a bulk action: stop it after the batch in flight. Taken by the runner at once,
    /// not queued behind loads.
    case stopBulk
    /// Move the session to another context of the contexts file (the runtime reconnects; the
    /// database thread never sees this), then open `openQueue` there if given.
    case switchContext(String, openQueue: String?)
    case quit
}

extension Effect {
    /// Effects the drawing thread does itself (it holds the frame and the terminal): the
    /// session runs these and posts the rest to the database thread.
    public var isTerminalSide: Bool {
        switch self {
        case .dumpScreen, .copy: return true
        default: return false
        }
    }
}

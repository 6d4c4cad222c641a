import Foundation
import QueueStore

/// The rows each screen lists, after the `/` filter. Views draw these and the reducer moves the
/// cursor over them, so both always agree on what row N is.
extension DashboardState {
    public var activeFilter: String { filter[screen] ?? "" }

    public var visibleQueues: [QueueHealth] {
        (snapshot?.queues ?? []).filter { matches($0.name) }
    }

    public var visibleGroups: [DLQGroup] {
        dlqGroups.filter { matches($0.queue) || matches($0.errorType ?? "") || matches($0.pattern) || matches($0.fingerprint)
            || matches($0.sampleMessage ?? "") }
    }

    public var visibleJobs: [DLQJob] {
        dlqJobs.filter { matches($0.id.uuidString) || matches($0.jobType) || matches($0.errorMessage ?? "") }
    }

    public var visibleMigrations: [LeadMigration] {
        (snapshot?.leadMigrations ?? []).filter { matches($0.runName) || matches($0.status.rawValue) }
    }

    public var visibleWorkers: [WorkerInfo] {
        (snapshot?.workers ?? []).filter { matches($0.id) || matches($0.host ?? "") || $0.queues.contains(where: matches) }
    }

    public var visibleAudit: [AuditEntry] {
        audit.filter { matches($0.action) || matches($0.actor ?? "") || matches($0.databaseRole) }
    }

    public var visibleSchedules: [Schedule] {
        (schedules ?? []).filter { matches($0.name) || matches($0.queue) || matches($0.jobType) }
    }

    /// The Log screen's lines, newest first, after the `/` filter (level, queue, job id or text).
    public var visiblePoolLog: [PoolLogLine] {
        poolLog.reversed().filter {
            matches($0.level) || matches($0.message) || matches($0.queue ?? "") || matches($0.jobID?.uuidString ?? "")
        }
    }

    /// How many rows the current screen's list has (0 for screens without a list).
    public var rowCount: Int {
        switch screen {
        case .overview: return visibleQueues.count
        case .queue: return 0
        case .dlq:
            switch dlqLevel {
            case .groups: return visibleGroups.count
            case .jobs: return visibleJobs.count
            case .job: return 0
            }
        case .leads: return visibleMigrations.count
        case .workers: return busyWorker.map { busyJobs(of: $0).count } ?? visibleWorkers.count
        case .audit: return visibleAudit.count
        case .schedules: return visibleSchedules.count
        case .log: return visiblePoolLog.count
        case .jobs: return jobs.rows.count
        case .timeline: return visibleTimeline.count
        }
    }

    /// The cursor on the current list, clamped to its rows.
    public var cursorRow: Int {
        let n = rowCount
        guard n > 0 else { return 0 }
        return min(max(0, cursor[listKey] ?? 0), n - 1)
    }

    /// The queue the operator is looking at: the overview's selected row, or the detail screen's.
    public var focusedQueue: QueueHealth? {
        switch screen {
        case .overview:
            let rows = visibleQueues
            return rows.isEmpty ? nil : rows[cursorRow]
        case .queue:
            guard var queue = selectedQueue.flatMap({ snapshot?.queue(named: $0) }) else { return nil }
            // The refresh reads no per-type figures; this queue's come from their own read.
            if let reading = queueTypes, reading.queue == queue.name, let types = reading.types { queue.types = types }
            return queue
        default:
            return nil
        }
    }

    /// The tenant report of the queue on screen; nil until one for *that* queue has loaded, so
    /// another queue's tenants never show under this one's name.
    public var focusedQueueTenants: QueueTenantReport? {
        guard let queue = focusedQueue, let report = queueTenants, report.queue == queue.name else { return nil }
        return report
    }

    public var focusedGroup: DLQGroup? {
        guard screen == .dlq, case .groups = dlqLevel else { return nil }
        let rows = visibleGroups
        return rows.isEmpty ? nil : rows[cursorRow]
    }

    public var focusedJob: DLQJob? {
        guard screen == .dlq else { return nil }
        switch dlqLevel {
        case .jobs:
            let rows = visibleJobs
            return rows.isEmpty ? nil : rows[cursorRow]
        case .job(_, let id):
            return dlqJobs.first { $0.id == id }
        case .groups:
            return nil
        }
    }

    public var focusedMigration: LeadMigration? {
        guard screen == .leads else { return nil }
        let rows = visibleMigrations
        return rows.isEmpty ? nil : rows[cursorRow]
    }

    public var focusedAudit: AuditEntry? {
        guard screen == .audit else { return nil }
        let rows = visibleAudit
        return rows.isEmpty ? nil : rows[min(cursorRow, rows.count - 1)]
    }

    public var focusedSchedule: Schedule? {
        guard screen == .schedules else { return nil }
        let rows = visibleSchedules
        return rows.isEmpty ? nil : rows[cursorRow]
    }

    /// A job's detail is on screen (opened by id, or the DLQ's open job): the arrows scroll it
    /// instead of moving a cursor.
    public var isInJobDetail: Bool {
        if openedJob != nil { return true }
        if screen == .dlq, case .job = dlqLevel { return true }
        return false
    }

    /// The job whose detail is on screen, once loaded: the opened one over anything else, else
    /// the DLQ's open job (nil while either is still loading, or when neither is open).
    public var shownJobDetail: JobDetail? {
        if let opened = openedJob { return opened.detail?.job.id == opened.id ? opened.detail : nil }
        guard screen == .dlq, case .job(_, let id) = dlqLevel, jobDetail?.job.id == id else { return nil }
        return jobDetail
    }

    /// Cursor positions are kept per list: the DLQ's three levels each remember their own.
    var listKey: Screen { screen }

    /// The `/` filter's test, for the selectors kept beside their screens (Timeline.swift).
    func matchesFilter(_ text: String) -> Bool { matches(text) }

    private func matches(_ text: String) -> Bool {
        let f = activeFilter
        return f.isEmpty || text.range(of: f, options: [.caseInsensitive, .literal]) != nil
    }
}

/// Figures the footer and banners derive from the state. Computed from `now` in the state (never
/// the clock), so the same state always reads the same.
extension DashboardState {
    /// Workers that run (the snapshot's count: worker_registry's definition, the one `status` shows).
    public var liveWorkerCount: Int {
        snapshot?.workerCounts.live ?? 0
    }

    /// Jobs being processed right now, over every queue (`HealthSnapshot.jobsInFlight`, the
    /// figure `status` prints too).
    public var inFlightCount: Int64 {
        snapshot?.jobsInFlight ?? 0
    }

    /// Dead-letter jobs over every queue, from the snapshot's exact counters.
    public var deadLetterTotal: Int64 {
        (snapshot?.queues ?? []).reduce(0) { $0 + $1.counts.deadLetter }
    }

    /// Whole seconds since the last refresh answered (nil before the first).
    public var secondsSinceRefresh: Int? {
        lastRefreshAt.map { max(0, Int(now.timeIntervalSince($0).rounded(.down))) }
    }

    /// Whole seconds until the next reconnection try, rounded up so "retrying in 0s" only shows
    /// when the try is due; nil while connected.
    public var secondsUntilRetry: Int? {
        guard case .disconnected(_, let retryAt) = connection else { return nil }
        return max(0, Int(retryAt.timeIntervalSince(now).rounded(.up)))
    }

    /// The data on screen is from before the connection was lost.
    public var isStale: Bool {
        if case .disconnected = connection { return snapshot != nil }
        return false
    }

    /// Alerts of the whole system, worst first: an open circuit or a silent worker stops work,
    /// a full DLQ loses it, slow or failing queues degrade it.
    public var alertsBySeverity: [Alert] {
        (snapshot?.alerts ?? []).enumerated()
            .sorted { ($0.element.kind.severityRank, $0.offset) < ($1.element.kind.severityRank, $1.offset) }
            .map(\.element)
    }
}

extension DashboardState {
    /// The refresh interval as the reducer's own messages spell it ("500ms", "2s").
    public var refreshIntervalText: String { formatInterval(refreshInterval) }
}

import Foundation
import QueueStore

/// Operator action keys: r R d c p + - t e; on the DLQ groups a z x o (triage); on audit u (undo);
/// on the Jobs screen p asks for a new priority first (JobsExplorer).
let actionKeys: Set<Character> = ["r", "R", "d", "c", "p", "+", "-", "t", "e", "a", "z", "x", "o", "u"]

/// How long the dashboard's `z` snoozes a group; the CLI takes any time or a count.
public let dashboardSnoozeSeconds = 3_600

/// Every action is refused in read-only mode; bulk and destructive ones open a confirmation that
/// first shows the exact count.
func handleActionKey(_ state: inout DashboardState, _ key: Key) -> [Effect] {
    guard case .character(let c) = key, actionKeys.contains(c) else { return [] }
    if state.readOnly {
        refuseReadOnly(&state)
        return []
    }
    // A migration that has ended has nothing left to cancel: say so, rather than let `c` do
    // nothing at all (walking the demo, the completed runs listed first took the key silently).
    if state.screen == .leads, c == "c", state.openedJob == nil, let m = state.focusedMigration, !m.status.isActive {
        state.flash = Flash("\(m.runName) already ended (\(m.status.rawValue)): nothing to cancel", kind: .error, at: state.now)
        return []
    }
    let chosen: OperatorAction?
    if c == "c", state.openedJob != nil || state.focusedBusyJob != nil {
        chosen = cancelJobAction(in: &state)
    } else if state.screen == .workers && (c == "p" || c == "d") {
        chosen = workerAction(c, in: &state)
    } else {
        chosen = action(for: c, in: state)
    }
    guard let action = chosen else { return [] }
    return request(&state, action)
}

private func refuseReadOnly(_ state: inout DashboardState) {
    let why = state.readOnlyReason.map { " (\($0))" } ?? ""
    state.flash = Flash("read-only: actions are disabled" + why, kind: .error, at: state.now)
}

/// Starts an action: straight away, or through a confirmation whose count is fetched first.
func request(_ state: inout DashboardState, _ action: OperatorAction) -> [Effect] {
    if state.readOnly {
        refuseReadOnly(&state)
        return []
    }
    guard action.needsConfirmation else { return [.perform(action)] }
    if action.bulkKind != nil, state.bulk != nil {
        state.flash = Flash("a bulk action is still running: wait for it, or Esc to stop it", kind: .error, at: state.now)
        return []
    }
    switch action {
    case .deleteJobs(let ids):
        state.confirmation = Confirmation(action: action, count: ids.count, context: state.contexts.current)
        return []
    case .cancelMigration, .runSchedule, .commandWorker, .cancelRunningJob:
        state.confirmation = Confirmation(action: action, count: 1, context: state.contexts.current)
        return []
    default:
        state.confirmation = Confirmation(action: action, count: nil, context: state.contexts.current)
        return [.preview(action)]
    }
}

private func action(for c: Character, in state: DashboardState) -> OperatorAction? {
    let reset = c == "R"
    switch (state.screen, c) {
    case (.dlq, "r"), (.dlq, "R"):
        switch state.dlqLevel {
        case .groups:
            guard let g = state.focusedGroup else { return nil }
            return .requeueGroup(DLQGroupKey(g), resetAttempts: reset, asOf: nil)
        case .jobs:
            if !state.marked.isEmpty { return .requeueJobs(state.marked.sorted { $0.uuidString < $1.uuidString }, resetAttempts: reset) }
            return state.focusedJob.map { .requeueJobs([$0.id], resetAttempts: reset) }
        case .job(_, let id):
            return .requeueJobs([id], resetAttempts: reset)
        }
    case (.dlq, "d"):
        switch state.dlqLevel {
        case .groups:
            guard let g = state.focusedGroup else { return nil }
            return .deleteGroup(DLQGroupKey(g), asOf: nil)
        case .jobs:
            if !state.marked.isEmpty { return .deleteJobs(state.marked.sorted { $0.uuidString < $1.uuidString }) }
            return state.focusedJob.map { .deleteJobs([$0.id]) }
        case .job(_, let id):
            return .deleteJobs([id])
        }
    case (.dlq, "a"), (.dlq, "z"), (.dlq, "x"), (.dlq, "o"):
        guard case .groups = state.dlqLevel, let g = state.focusedGroup else { return nil }
        let step: GroupTriage = c == "a" ? .acknowledge : c == "z" ? .snooze(seconds: dashboardSnoozeSeconds)
            : c == "x" ? .resolve : .reopen
        return .triageGroup(step, DLQGroupKey(g))
    case (.audit, "u"):
        guard let entry = state.focusedAudit, entry.action == "dlq.requeue" else { return nil }
        return .undoRequeue(auditID: entry.id)
    case (.leads, "c"):
        guard let m = state.focusedMigration, m.status.isActive else { return nil }
        return .cancelMigration(runID: m.runID, name: m.runName)
    case (.overview, "p"), (.queue, "p"):
        guard let q = state.focusedQueue else { return nil }
        return q.paused ? .resume(queue: q.name) : .pause(queue: q.name)
    case (.overview, "+"), (.queue, "+"), (.overview, "-"), (.queue, "-"):
        guard let q = state.focusedQueue else { return nil }
        let current = q.settings.concurrencyLimit
        if c == "+" {
            guard let current else { return nil }  // already unlimited
            return .setConcurrency(queue: q.name, limit: current + 1)
        }
        // From unlimited, '-' starts at the number of workers' slots in use, at least 1.
        let base = current ?? max(1, Int(q.counts.processing))
        return .setConcurrency(queue: q.name, limit: max(1, base - (current == nil ? 0 : 1)))
    case (.overview, "t"), (.queue, "t"):
        return state.focusedQueue.map { .trigger(queue: $0.name) }
    case (.jobs, "c"), (.jobs, "r"), (.jobs, "d"):
        return jobsAction(c, in: state)
    case (.schedules, "e"):
        return state.focusedSchedule.map { .setScheduleEnabled(name: $0.name, enabled: !$0.enabled) }
    case (.schedules, "t"):
        return state.focusedSchedule.map { .runSchedule(name: $0.name, queue: $0.queue, jobType: $0.jobType) }
    default:
        return nil
    }
}

/// `c` cancels, `d` deletes, `r` requeues dead and cancelled jobs or runs the others now: on the
/// marked jobs, or, with none marked, on everything the filter and state tab match.
private func jobsAction(_ c: Character, in state: DashboardState) -> OperatorAction? {
    let kind: JobBulkAction
    switch c {
    case "c": kind = .cancel
    case "d": kind = .delete
    default:
        let shown = state.jobs.stateTab ?? state.focusedSearchJob?.state
        kind = shown == .dead || shown == .cancelled ? .requeue : .runNow
    }
    return jobsBulkAction(kind, in: state)
}

/// `kind` on the marked jobs, or, with none marked, on everything the filter and state tab
/// match; nil when the screen shows no job to act on. `priority`: the new priority of `.priority`.
func jobsBulkAction(_ kind: JobBulkAction, priority: Int? = nil, in state: DashboardState) -> OperatorAction? {
    let filter = state.jobs.effectiveFilter
    if !state.marked.isEmpty {
        return .jobsByID(kind, state.marked.sorted { $0.uuidString < $1.uuidString }, filterText: filter.description,
                         asOf: nil, priority: priority)
    }
    guard !state.jobs.rows.isEmpty else { return nil }
    return .jobsByFilter(kind, filter, asOf: nil, priority: priority)
}

func handleConfirmationKey(_ state: inout DashboardState, _ key: Key) -> [Effect] {
    guard let confirmation = state.confirmation else { return [] }
    switch key {
    case .character("y"), .character("Y"), .enter:
        // Confirming needs the count on screen: nothing happens until it has arrived.
        guard let count = confirmation.count else { return [] }
        state.confirmation = nil
        if count == 0 {
            state.flash = Flash("nothing to do: 0 jobs match", kind: .info, at: state.now)
            return []
        }
        if let kind = confirmation.action.bulkKind {
            // One bulk action at a time: two would race for the same rows and one progress line
            // could not say how either is doing.
            if state.bulk != nil {
                state.flash = Flash("a bulk action is still running: wait for it, or Esc to stop it", kind: .error, at: state.now)
                return []
            }
            state.bulk = BulkRun(progress: JobBulkProgress(action: kind, done: 0, total: count, elapsed: 0), startedAt: state.now)
        }
        return [.perform(confirmation.action)]
    case .character("n"), .character("N"), .escape, .character("q"):
        state.confirmation = nil
        state.flash = Flash("cancelled", kind: .info, at: state.now)
        return []
    default:
        return []
    }
}

extension OperatorAction {
    /// The Jobs-screen bulk action this is (it runs in batches with a progress line), if any.
    public var bulkKind: JobBulkAction? {
        switch self {
        case .jobsByFilter(let kind, _, _, _), .jobsByID(let kind, _, _, _, _): return kind
        default: return nil
        }
    }

    /// Same action on the same rows, ignoring the `asOf` pin (used to match a preview's answer).
    func sameTarget(as other: OperatorAction) -> Bool {
        pinned(asOf: nil) == other.pinned(asOf: nil)
    }

    /// Pins a group action to the moment its count was taken, so confirming acts on exactly the
    /// jobs that were counted and not on ones that died since.
    func pinned(asOf: Date?) -> OperatorAction {
        switch self {
        case .requeueGroup(let key, let reset, _): return .requeueGroup(key, resetAttempts: reset, asOf: asOf)
        case .deleteGroup(let key, _): return .deleteGroup(key, asOf: asOf)
        case .jobsByFilter(let kind, let filter, _, let priority): return .jobsByFilter(kind, filter, asOf: asOf, priority: priority)
        case .jobsByID(let kind, let ids, let text, _, let priority):
            return .jobsByID(kind, ids, filterText: text, asOf: asOf, priority: priority)
        default: return self
        }
    }
}

extension Confirmation {
    /// The question the confirmation dialog asks, with the exact count once it is known, and
    /// the context it acts on when the session is on one ("Requeue 120 jobs from emails /
    /// smtp_error on eu-1?"). Views show it verbatim; the end-to-end test waits for it on
    /// screen before pressing `y`.
    public var prompt: String {
        let question = basePrompt
        guard let context, count != nil, let mark = question.firstIndex(of: "?") else { return question }
        return question[..<mark] + " on \(context)" + question[mark...]
    }

    private var basePrompt: String {
        guard let count else { return "Counting the jobs this would touch…" }
        let jobs = count == 1 ? "1 job" : "\(count) jobs"
        switch action {
        case .requeueGroup(let key, let reset, _):
            return "Requeue \(jobs) from \(key.label)\(reset ? " with attempts reset" : "")?"
        case .requeueJobs(_, let reset):
            return "Requeue \(jobs)\(reset ? " with attempts reset" : "")?"
        case .deleteGroup(let key, _):
            return "Delete \(jobs) from \(key.label)? This cannot be undone."
        case .deleteJobs:
            return "Delete \(jobs)? This cannot be undone."
        case .cancelMigration(_, let name):
            return "Cancel lead migration \(name)? Leads already moved stay moved."
        case .pause(let queue): return "Pause \(queue)?"
        case .resume(let queue): return "Resume \(queue)?"
        case .setConcurrency(let queue, let limit): return "Set \(queue) concurrency to \(limit.map(String.init) ?? "unlimited")?"
        case .trigger(let queue): return "Run \(queue) now?"
        case .setScheduleEnabled(let name, let enabled): return "\(enabled ? "Enable" : "Disable") schedule \(name)?"
        case .runSchedule(let name, let queue, let jobType):
            return "Run schedule \(name) now? It enqueues one \(jobType) job on \(queue); its regular ticks stay as they are."
        case .undoRequeue(let auditID):
            return "Undo requeue #\(auditID)? \(jobs) not started yet go back to the DLQ as they were."
        case .triageGroup(let step, let key):
            return "\(step.verb.capitalized) \(key.label)?"
        case .jobsByFilter(let kind, let filter, _, let priority):
            let matching = filter.isEmpty ? "" : " matching \(filter.description)"
            return "\(kind.verb.prefix(1).uppercased() + kind.verb.dropFirst()) \(jobs)\(matching)\(Self.to(priority))?"
                + (kind == .delete ? " This cannot be undone." : "")
        case .jobsByID(let kind, let ids, _, _, let priority):
            let skipped = ids.count - count
            return "\(kind.verb.prefix(1).uppercased() + kind.verb.dropFirst()) \(jobs) of \(ids.count) marked\(Self.to(priority))?"
                + (skipped > 0 ? " \(skipped) are in a state it does not apply to." : "")
        case .commandWorker(let kind, _, let label):
            switch kind {
            case .quiet: return "Quiet \(label)? It claims no new jobs until resumed; the jobs it holds finish."
            case .resume: return "Resume \(label)? It claims jobs again."
            case .drain: return "Drain \(label)? It finishes the jobs it holds, then exits."
            }
        case .cancelRunningJob(_, let label):
            return "Cancel \(label)? Its handler is stopped; the job is not run again."
        }
    }

    /// " to priority 5" for a priority change, else nothing.
    private static func to(_ priority: Int?) -> String { priority.map { " to priority \($0)" } ?? "" }
}

extension GroupTriage {
    /// "acknowledge", "snooze for 1h", "resolve", "reopen".
    public var verb: String {
        switch self {
        case .acknowledge: return "acknowledge"
        case .snooze(let seconds): return "snooze for \(seconds % 3_600 == 0 ? "\(seconds / 3_600)h" : "\(seconds / 60)m")"
        case .resolve: return "resolve"
        case .reopen: return "reopen"
        }
    }
}

extension DLQGroupKey {
    /// "emails / smtp_error 3fa9c2d1e0b4", or "emails / (no type) 3fa9c2d1e0b4".
    public var label: String { "\(queue) / \(errorType.flatMap { $0.isEmpty ? nil : $0 } ?? "(no type)") \(fingerprint)" }
}

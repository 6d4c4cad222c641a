import Foundation
import JobFilter
import QueueStore

/// The dashboard's only state transition: `reduce(&state, message) -> effects`.
///
/// Pure: no I/O, no clock (time arrives in messages), no curses — so key sequences are tested as
/// plain values. Modal input is handled first (confirmation dialog, `:` command line, `/` filter
/// editing, help overlay), then screen keys.
public func reduce(_ state: inout DashboardState, _ message: Message) -> [Effect] {
    if let effects = reduceContexts(&state, message) { return effects }
    switch message {
    case .key(let key):
        return handleKey(&state, key)
    case .tick(let now):
        state.now = now
        if let flash = state.flash, now.timeIntervalSince(flash.at) > 5 { state.flash = nil }
        return refreshIfDue(state)
    case .snapshotLoaded(let snapshot, let at):
        state.snapshot = snapshot
        state.lastRefreshAt = at
        state.now = at
        state.connection = .connected
        return []
    case .standbyLoaded(let standby):
        state.standby = standby
        return []
    case .alertHooksLoaded(let summary):
        state.alertHooks = summary
        return []
    case .disconnected(let reason, let retryIn, let at):
        state.now = at
        state.lastRefreshAt = at
        state.connection = .disconnected(reason: reason, retryAt: at.addingTimeInterval(retryIn))
        return []
    case .dlqGroupsLoaded(let groups):
        state.dlqGroups = groups
        return []
    case .dlqJobsLoaded(let key, let jobs):
        guard state.dlqLevel.groupKey == key else { return [] }
        state.dlqJobs = jobs
        state.marked.formIntersection(jobs.map(\.id))
        return []
    case .jobDetailLoaded(let id, let detail):
        jobLoaded(&state, id, detail)
        return []
    case .jobFound(let text, let lookup):
        return jobFound(&state, text, lookup)
    case .auditLoaded(let entries):
        state.audit = entries
        focusAuditRow(&state)
        return []
    case .schedulesLoaded(let schedules):
        state.schedules = schedules
        return []
    case .timelineLoaded(let entries):
        state.timeline = entries
        return []
    case .chartMarksLoaded(let marks):
        state.chartMarks = marks
        return []
    case .terminalEffectDone(let text, let ok, let at):
        state.flash = Flash(text, kind: ok ? .success : .error, at: at)
        return []
    case .queueTenantsLoaded(let report):
        state.queueTenants = report
        return []
    case .queueTypesLoaded(let queue, let types):
        state.queueTypes = QueueTypesReading(queue: queue, types: types)
        return []
    case .workerJobsLoaded(let jobs):
        state.workerJobs = jobs
        return []
    case .poolLogUpdated(let lines):
        state.poolLog = lines
        return []
    case .detailViewportMeasured(let viewport):
        state.detailViewport = viewport
        // While help is open the pane on top is help's: clamp its offset, leave the job's alone
        // (the first frame after help closes measures the job's pane again).
        if state.showHelp {
            if let viewport { state.helpScroll = min(state.helpScroll, viewport.maxOffset) }
            return []
        }
        // A smaller terminal (or a shorter payload after a reload) leaves less to scroll.
        if let viewport { state.detailScroll = min(state.detailScroll, viewport.maxOffset) }
        return []
    case .previewCounted(let action, let count, let asOf, let sample):
        guard state.confirmation?.action.sameTarget(as: action) == true else { return [] }
        state.confirmation = Confirmation(action: action.pinned(asOf: asOf), count: count, sample: sample, context: state.confirmation?.context)
        return []
    case .bulkProgressed(let progress):
        guard var bulk = state.bulk else { return [] }
        // The total stays the count the operator confirmed: the runner acts on the pinned
        // as-of and does not count again.
        bulk.progress = JobBulkProgress(action: progress.action, done: progress.done, total: bulk.progress.total,
                                        elapsed: progress.elapsed)
        state.bulk = bulk
        return []
    case .bulkEnded(let text, let failed, let at):
        state.bulk = nil
        state.flash = Flash(text, kind: failed ? .error : .success, at: at)
        state.marked.removeAll()
        let search: [Effect] = state.screen == .jobs && state.openedJob == nil && !state.jobs.refreshesByItself
            ? [.loadJobs(state.jobs.request)] : []
        return [.refresh] + reloadCurrentList(state) + search
    case .jobsLoaded(let request, let page, let count, let took):
        // An answer for another filter, tab, sort or page (the operator moved on) is dropped.
        guard state.jobs.request == request else { return [] }
        state.jobs.page = page
        state.jobs.count = count ?? state.jobs.count
        state.jobs.loadedRequest = request
        state.jobs.lastLoadSeconds = took
        return []
    case .notificationsDelivered(let delivered):
        state.notificationsLost = !delivered
        return []
    case .changed(let at):
        state.now = at
        // Paused means paused: the operator is reading a frozen screen. While disconnected the
        // tick's retry schedule decides (a notification only proves the listener's link is up).
        guard !state.refreshPaused, state.connection == .connected else { return [] }
        return [.refresh] + reloadCurrentList(state)
    case .actionFinished(let text, let at):
        state.flash = Flash(text, kind: .success, at: at)
        state.marked.removeAll()
        let search: [Effect] = state.screen == .jobs && state.openedJob == nil && !state.jobs.refreshesByItself
            ? [.loadJobs(state.jobs.request)] : []
        return [.refresh] + reloadCurrentList(state) + search
    case .actionFailed(let text, let at):
        state.flash = Flash(text, kind: .error, at: at)
        return []
    case .contextRefreshed, .contextUnreachable, .contextSwitched, .contextSwitchFailed:
        return []  // reduceContexts
    }
}

// MARK: - Refresh

private func refreshIfDue(_ state: DashboardState) -> [Effect] {
    if case .disconnected(_, let retryAt) = state.connection {
        return state.now >= retryAt ? [.refresh] : []
    }
    guard !state.refreshPaused else { return [] }
    guard let last = state.lastRefreshAt else { return [.refresh] }
    return state.now.timeIntervalSince(last) >= state.refreshInterval ? [.refresh] + reloadCurrentList(state) : []
}

/// The list the current screen shows comes from its own query; it is reloaded with the snapshot.
/// An opened job hides the screen, so it alone is reloaded: its status may change as it runs.
func reloadCurrentList(_ state: DashboardState) -> [Effect] {
    if let opened = state.openedJob { return [.loadJobDetail(opened.id)] }
    switch state.screen {
    case .dlq:
        switch state.dlqLevel {
        case .groups: return [.loadDLQGroups]
        case .jobs(let key): return [.loadDLQJobs(key)]
        case .job(_, let id): return [.loadJobDetail(id)]
        }
    case .audit: return [.loadAudit]
    case .schedules: return [.loadSchedules]
    case .timeline: return [.loadTimeline]
    case .queue: return state.selectedQueue.map { [.loadQueueTenants($0), .loadQueueTypes($0)] } ?? []
    case .workers: return [.loadWorkerJobs]
    case .jobs: return state.jobs.refreshesByItself ? [.loadJobs(state.jobs.request)] : []
    case .overview, .leads, .log: return []
    }
}

// MARK: - Keys

private func handleKey(_ state: inout DashboardState, _ key: Key) -> [Effect] {
    // Modes first: in a dialog, the `:` line and the `/` filter every key is theirs, so a
    // capital Q typed in a queue name or pasted into a filter is a letter, not a quit.
    if state.confirmation != nil { return handleConfirmationKey(&state, key) }
    if state.commandLine != nil { return handleCommandKey(&state, key) }
    if state.contexts.pickerCursor != nil { return handleContextPickerKey(&state, key) }
    if state.filterEditing { handleFilterKey(&state, key); return [] }
    if state.screen == .jobs, state.openedJob == nil, state.jobs.editing != nil || state.jobs.priorityPrompt != nil {
        return handleJobsKey(&state, key) ?? []
    }
    // Anywhere else Q quits: any screen, the opened job, the help overlay.
    if key == .character("Q") { state.quitting = true; return [.quit] }
    if state.showHelp {
        handleHelpKey(&state, key)
        return []
    }
    // While a bulk action runs, Esc stops it after the batch in flight (the progress line says
    // so); every other key keeps its meaning. Once stopping, Esc navigates again.
    if key == .escape, var bulk = state.bulk, !bulk.stopping {
        bulk.stopping = true
        state.bulk = bulk
        return [.stopBulk]
    }
    if state.openedJob != nil, openedJobIgnores(key) { return [] }
    if let effects = handleAllViewKey(&state, key) { return effects }
    if state.screen == .jobs, state.openedJob == nil, let effects = handleJobsKey(&state, key) { return effects }
    if state.screen == .queue, state.openedJob == nil, key == .character("J"), let queue = state.selectedQueue {
        // The queue's jobs, with queue:NAME already typed.
        return openJobsScreen(&state, filterText: JobFilter([FilterTerm(.queue(queue))]).description)
    }
    switch key {
    case .character("?"): state.showHelp = true; state.helpScroll = 0
    case .character("q"): return goBack(&state, quitsAtHome: true)
    // Esc never quits: an operator presses it repeatedly to close things and get home.
    case .escape: return goBack(&state, quitsAtHome: false)
    case .character(let c) where ("0"..."9").contains(c):
        return switchScreen(&state, to: Screen(rawValue: Int(String(c))!)!)
    case .character("y"):
        return copySelection(&state)
    case .tab: return switchScreen(&state, to: nextScreen(state.screen, by: 1))
    case .backTab: return switchScreen(&state, to: nextScreen(state.screen, by: -1))
    case .up, .character("k"): moveCursor(&state, by: -1)
    case .down, .character("j"): moveCursor(&state, by: 1)
    case .pageUp: moveCursor(&state, by: -pageStep(state))
    case .pageDown: moveCursor(&state, by: pageStep(state))
    case .home, .character("g"): moveCursor(&state, to: 0)
    case .end, .character("G"): moveCursor(&state, to: Int.max)
    case .enter, .right, .character("l"): return drillIn(&state)
    case .left, .character("h"): return goBack(&state, quitsAtHome: false)
    case .character("/"):
        state.filterEditing = true
    case .character(":"):
        state.commandLine = ""
    case .character("["):
        state.refreshInterval = max(DashboardState.minimumInterval, (state.refreshInterval / 2 * 10).rounded() / 10)
        state.flash = Flash("refresh every \(formatInterval(state.refreshInterval))", kind: .info, at: state.now)
    case .character("]"):
        state.refreshInterval = min(DashboardState.maximumInterval, state.refreshInterval * 2)
        state.flash = Flash("refresh every \(formatInterval(state.refreshInterval))", kind: .info, at: state.now)
    case .character("P"):
        state.refreshPaused.toggle()
        state.flash = Flash(state.refreshPaused ? "refresh paused (P resumes)" : "refresh resumed", kind: .info, at: state.now)
        return state.refreshPaused ? [] : [.refresh]
    case .control("r"):
        // ^R also repeats a payload search, which the interval does not (JobsExplorer).
        let search: [Effect] = state.screen == .jobs && !state.jobs.refreshesByItself ? [.loadJobs(state.jobs.request)] : []
        return [.refresh] + reloadCurrentList(state) + search
    case .character(" "):
        toggleMark(&state)
    default:
        return handleActionKey(&state, key)
    }
    return []
}

private func nextScreen(_ screen: Screen, by step: Int) -> Screen {
    let all = Screen.allCases
    let i = all.firstIndex(of: screen)!
    return all[(i + step + all.count) % all.count]
}

func switchScreen(_ state: inout DashboardState, to screen: Screen) -> [Effect] {
    dismissOpenedJob(&state)
    if screen != state.screen { _ = leaveBusyWorker(&state) }
    if screen == .queue, state.selectedQueue == nil {
        state.selectedQueue = state.visibleQueues.first?.name
    }
    state.screen = screen
    return reloadCurrentList(state)
}

private func goBack(_ state: inout DashboardState, quitsAtHome: Bool) -> [Effect] {
    // The opened job is the topmost thing on screen: it closes first, and `q` on it never quits.
    if state.openedJob != nil { return closeOpenedJob(&state) }
    if !state.activeFilter.isEmpty {
        state.filter[state.screen] = nil
        return []
    }
    switch state.screen {
    case .overview:
        guard quitsAtHome else { return [] }
        state.quitting = true
        return [.quit]
    case .dlq:
        switch state.dlqLevel {
        case .job(let key, _):
            state.dlqLevel = .jobs(key)
            state.jobDetail = nil
            state.detailScroll = 0
            state.detailViewport = nil
            return []
        case .jobs:
            state.dlqLevel = .groups
            state.marked.removeAll()
            return [.loadDLQGroups]
        case .groups:
            state.screen = .overview
            return []
        }
    case .workers:
        if leaveBusyWorker(&state) { return [] }
        state.screen = .overview
        return []
    case .queue, .leads, .audit, .schedules, .log, .jobs, .timeline:
        state.screen = .overview
        return []
    }
}

private func drillIn(_ state: inout DashboardState) -> [Effect] {
    switch state.screen {
    case .overview:
        guard let queue = state.focusedQueue else { return [] }
        state.selectedQueue = queue.name
        state.screen = .queue
        return reloadCurrentList(state)
    case .dlq:
        switch state.dlqLevel {
        case .groups:
            guard let group = state.focusedGroup else { return [] }
            let key = DLQGroupKey(group)
            state.dlqLevel = .jobs(key)
            state.dlqJobs = []
            state.marked.removeAll()
            state.cursor[.dlq] = 0
            return [.loadDLQJobs(key)]
        case .jobs(let key):
            guard let job = state.focusedJob else { return [] }
            state.dlqLevel = .job(key, job.id)
            state.jobDetail = nil
            state.detailScroll = 0
            state.detailViewport = nil
            return [.loadJobDetail(job.id)]
        case .job:
            return []
        }
    case .workers:
        return drillIntoWorker(&state)
    case .log:
        // A line about a job opens that job, as `:job ID` does.
        let lines = state.visiblePoolLog
        guard !lines.isEmpty, let id = lines[state.cursorRow].jobID else { return [] }
        return openJob(&state, id: id)
    case .timeline:
        return openTimelineEntry(&state)
    case .queue, .leads, .audit, .schedules, .jobs:
        return []
    }
}

/// Lists page by 10 rows; a job's detail by the screenful the view measured.
private func pageStep(_ state: DashboardState) -> Int {
    guard state.isInJobDetail, let viewport = state.detailViewport else { return 10 }
    return viewport.visibleRows
}

private func moveCursor(_ state: inout DashboardState, by delta: Int) {
    if state.isInJobDetail {
        scrollDetail(&state, to: state.detailScroll + delta)
        return
    }
    moveCursor(&state, to: state.cursorRow + delta)
}

private func moveCursor(_ state: inout DashboardState, to row: Int) {
    if state.isInJobDetail {
        scrollDetail(&state, to: row)
        return
    }
    let n = state.rowCount
    state.cursor[state.listKey] = n == 0 ? 0 : min(max(0, row), n - 1)
    if state.screen == .overview, let q = state.focusedQueue { state.selectedQueue = q.name }
}

/// Keeps the payload offset within what the view can show, so every `k` after `G` moves the
/// text at once. Until the first measurement there is no known end: `G` parks the offset past
/// it and `.detailViewportMeasured` clamps it (the runtime measures after every frame).
/// Help's keys: the moving keys scroll it (a short terminal cannot show it all); any other key
/// closes it, `?` and Esc included, as before.
private func handleHelpKey(_ state: inout DashboardState, _ key: Key) {
    // The runtime measures every frame before the next key, so no viewport means help fits.
    let page = max(1, state.detailViewport?.visibleRows ?? 10)
    let limit = state.detailViewport?.maxOffset ?? 0
    func scroll(to offset: Int) { state.helpScroll = min(max(0, offset), limit) }
    switch key {
    case .down, .character("j"): scroll(to: state.helpScroll + 1)
    case .up, .character("k"): scroll(to: state.helpScroll - 1)
    case .pageDown: scroll(to: state.helpScroll + page)
    case .pageUp: scroll(to: state.helpScroll - page)
    case .home, .character("g"): scroll(to: 0)
    case .end, .character("G"): scroll(to: Int.max / 2)
    default:
        state.showHelp = false
        state.helpScroll = 0
    }
}

private func scrollDetail(_ state: inout DashboardState, to offset: Int) {
    let limit = state.detailViewport?.maxOffset ?? Int.max / 2
    state.detailScroll = min(max(0, offset), limit)
}

private func toggleMark(_ state: inout DashboardState) {
    guard state.screen == .dlq, case .jobs = state.dlqLevel, let job = state.focusedJob else { return }
    if state.marked.contains(job.id) { state.marked.remove(job.id) } else { state.marked.insert(job.id) }
    moveCursor(&state, by: 1)
}

private func handleFilterKey(_ state: inout DashboardState, _ key: Key) {
    var text = state.filter[state.screen] ?? ""
    switch key {
    case .enter: state.filterEditing = false
    case .escape: state.filterEditing = false; text = ""
    case .backspace: if !text.isEmpty { text.removeLast() }
    case .character(let c) where text.count < 80: text.append(c)
    default: break
    }
    state.filter[state.screen] = text.isEmpty ? nil : text
    state.cursor[state.listKey] = 0
}

func formatInterval(_ seconds: Double) -> String {
    seconds < 1 ? "\(Int(seconds * 1000))ms" : (seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds))
}

extension DLQLevel {
    var groupKey: DLQGroupKey? {
        switch self {
        case .groups: return nil
        case .jobs(let key), .job(let key, _): return key
        }
    }
}

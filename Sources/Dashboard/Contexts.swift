import Foundation
import QueueStore

/// One database of the contexts file as the dashboard knows it: what it is, and what its own
/// poller last read there (`ContextsPoller`: each context on its own connection and schedule).
public struct ContextEntry: Sendable, Equatable {
    public enum Link: Sendable, Equatable {
        case connecting
        case connected
        case disconnected(reason: String)
    }

    public var name: String
    /// "region=eu shard=a", or "".
    public var labels: String
    /// Only a replica: nothing may be done there.
    public var readOnly: Bool
    public var readsFromReplica: Bool
    public var link: Link = .connecting
    /// The last summary read there (kept while disconnected: shown as stale, never summed as fresh).
    public var summary: HealthSummary?
    public var standby: StandbyStatus?
    /// When the last read there answered.
    public var refreshedAt: Date?

    public init(name: String, labels: String = "", readOnly: Bool = false, readsFromReplica: Bool = false) {
        self.name = name; self.labels = labels; self.readOnly = readOnly; self.readsFromReplica = readsFromReplica
    }
}

/// What the dashboard knows of the contexts file: the contexts, which one the session is on,
/// the `:ctx` list and the all view.
public struct ContextsState: Sendable, Equatable {
    /// By name. Empty without a contexts file.
    public var entries: [ContextEntry] = []
    /// The context the session reads and acts on (nil: `--db`/`DATABASE_URL`).
    public var current: String?
    /// Where the embedded worker pool runs: the context the dashboard opened on, for good.
    public var poolContext: String?
    /// `:ctx` is open, with the cursor on this row.
    public var pickerCursor: Int?
    /// The all view replaces the overview's table (`:all`, `a` in the `:ctx` list).
    public var allView = false
    /// The all view shows one row per queue summed over its contexts instead of one per queue per context.
    public var sumByQueue = false
    public var allCursor = 0
    /// A switch on its way (the new context is being checked): the header says "switching…".
    public var switching: String?

    public init() {}
}

/// The answer to a `:ctx` switch: the new context's startup check, done off the drawing thread.
public struct ContextSwitch: Sendable, Equatable {
    public var name: String
    public var snapshot: HealthSnapshot
    public var standby: StandbyStatus?
    public var readOnly: Bool
    public var readOnlyReason: String?
    /// The queue to open once there (a drill-down from the all view).
    public var openQueue: String?
    public init(name: String, snapshot: HealthSnapshot, standby: StandbyStatus?, readOnly: Bool,
                readOnlyReason: String?, openQueue: String?) {
        self.name = name; self.snapshot = snapshot; self.standby = standby; self.readOnly = readOnly
        self.readOnlyReason = readOnlyReason; self.openQueue = openQueue
    }
}

extension ContextEntry {
    /// No answer for three refresh intervals (at least 5 s) while the link is not known to be
    /// down: a slow database. Its figures are shown, marked stale.
    public func isStale(now: Date, interval: Double) -> Bool {
        guard link == .connected, let refreshedAt else { return false }
        return now.timeIntervalSince(refreshedAt) > max(3 * interval, 5)
    }

    /// "ok", "stale 12s", "disconnected", "connecting": the one word the list and the all view show.
    public func stateWord(now: Date, interval: Double) -> String {
        switch link {
        case .connecting: return "connecting"
        case .disconnected: return "disconnected"
        case .connected:
            guard isStale(now: now, interval: interval), let refreshedAt else { return "ok" }
            return "stale \(Int(now.timeIntervalSince(refreshedAt)))s"
        }
    }
}

extension DashboardState {
    /// The summaries the all view adds up: every context that answered and is neither
    /// disconnected nor stale (an old figure summed as current would mislead).
    public var freshContextSummaries: [(context: String, summary: HealthSummary)] {
        contexts.entries.compactMap { e in
            guard e.link == .connected, !e.isStale(now: now, interval: refreshInterval), let s = e.summary else { return nil }
            return (e.name, s)
        }
    }

    /// The all view's rows in the chosen grouping.
    public var allViewRows: [HealthSum.Row] {
        contexts.sumByQueue ? HealthSum.perQueue(freshContextSummaries) : HealthSum.perContext(freshContextSummaries)
    }
}

// MARK: - Reducer

/// The messages and keys of the contexts feature; nil when the message or key is not theirs.
func reduceContexts(_ state: inout DashboardState, _ message: Message) -> [Effect]? {
    switch message {
    case .contextRefreshed(let name, let summary, let standby, let at):
        updateEntry(&state, name) { $0.link = .connected; $0.summary = summary; $0.standby = standby; $0.refreshedAt = at }
        return []
    case .contextUnreachable(let name, let reason, _):
        updateEntry(&state, name) { $0.link = .disconnected(reason: reason) }
        return []
    case .contextSwitched(let result):
        var next = DashboardState(now: state.now, readOnly: result.readOnly)
        next.refreshInterval = state.refreshInterval
        next.contexts = state.contexts
        next.contexts.current = result.name
        next.contexts.switching = nil
        next.contexts.pickerCursor = nil
        next.contexts.allView = false
        next.poolLog = state.poolLog
        next.poolStartupError = state.poolStartupError
        next.readOnlyReason = result.readOnlyReason
        next.snapshot = result.snapshot
        next.standby = result.standby
        next.lastRefreshAt = state.now
        next.connection = .connected
        let pool = state.contexts.poolContext.map { $0 == result.name ? "" : "; the embedded workers stay on \($0)" } ?? ""
        // The old context's runner stops a running bulk action between batches as it is let go;
        // its end lands in the old inbox, so say it here (its audit row there says how far it got).
        let bulk = state.bulk.map { "; the running \($0.progress.action.verb) was stopped after its batch in flight" } ?? ""
        next.flash = Flash("context \(result.name)\(result.readOnlyReason.map { ": read-only, \($0)" } ?? "")\(pool)\(bulk)",
                           kind: .info, at: state.now)
        state = next
        if let queue = result.openQueue, state.snapshot?.queues.contains(where: { $0.name == queue }) == true {
            state.selectedQueue = queue
            return switchScreen(&state, to: .queue)
        }
        return []
    case .contextSwitchFailed(let name, let reason, let at):
        state.contexts.switching = nil
        state.flash = Flash("cannot switch to \(name): \(reason) (still on \(state.contexts.current ?? "the same database"))", kind: .error, at: at)
        return []
    default:
        return nil
    }
}

private func updateEntry(_ state: inout DashboardState, _ name: String, _ change: (inout ContextEntry) -> Void) {
    guard let i = state.contexts.entries.firstIndex(where: { $0.name == name }) else { return }
    change(&state.contexts.entries[i])
}

/// `:ctx` (the list), `:ctx NAME` (switch), `:all` (the all view).
func runContextCommand(_ state: inout DashboardState, verb: String, args: [String]) -> [Effect]? {
    switch verb {
    case "ctx", "context", "contexts":
        guard !state.contexts.entries.isEmpty else {
            state.flash = Flash("no contexts file (~/.config/queuetop/contexts.toml, $QUEUETOP_CONTEXTS or --contexts FILE)", kind: .error, at: state.now)
            return []
        }
        guard let name = args.first else {
            state.contexts.pickerCursor = state.contexts.entries.firstIndex { $0.name == state.contexts.current } ?? 0
            return []
        }
        return requestSwitch(&state, to: name, openQueue: nil)
    case "all":
        guard !state.contexts.entries.isEmpty else {
            state.flash = Flash("no contexts file: the all view adds up the contexts of one", kind: .error, at: state.now)
            return []
        }
        openAllView(&state)
        return []
    default:
        return nil
    }
}

private func openAllView(_ state: inout DashboardState) {
    dismissOpenedJob(&state)
    state.contexts.pickerCursor = nil
    state.contexts.allView = true
    state.contexts.allCursor = 0
    state.screen = .overview
}

private func requestSwitch(_ state: inout DashboardState, to name: String, openQueue: String?) -> [Effect] {
    guard state.contexts.entries.contains(where: { $0.name == name }) else {
        state.flash = Flash("no context '\(name)' (:ctx lists them)", kind: .error, at: state.now)
        return []
    }
    state.contexts.pickerCursor = nil
    if name == state.contexts.current && openQueue == nil {
        state.flash = Flash("already on \(name)", kind: .info, at: state.now)
        return []
    }
    // A confirmation open on the old context must not be answered on the new one.
    state.confirmation = nil
    state.contexts.switching = name
    state.flash = Flash("switching to \(name)…", kind: .info, at: state.now)
    return [.switchContext(name, openQueue: openQueue)]
}

/// Keys while the `:ctx` list is open: move, Enter switches, `a` opens the all view, Esc closes.
func handleContextPickerKey(_ state: inout DashboardState, _ key: Key) -> [Effect] {
    let count = state.contexts.entries.count
    let cursor = state.contexts.pickerCursor ?? 0
    switch key {
    case .escape, .character("q"): state.contexts.pickerCursor = nil
    case .up, .character("k"): state.contexts.pickerCursor = max(0, cursor - 1)
    case .down, .character("j"): state.contexts.pickerCursor = min(count - 1, cursor + 1)
    case .enter, .right, .character("l"):
        guard count > 0 else { return [] }
        return requestSwitch(&state, to: state.contexts.entries[cursor].name, openQueue: nil)
    case .character("a"): openAllView(&state)
    case .character("Q"): state.quitting = true; return [.quit]
    default: break
    }
    return []
}

/// Keys of the all view (on the overview): move, `s` toggles per context / summed, Enter goes
/// to the row's context with its queue open, Esc/q/h closes. nil: not the all view's key.
func handleAllViewKey(_ state: inout DashboardState, _ key: Key) -> [Effect]? {
    guard state.contexts.allView, state.screen == .overview, state.openedJob == nil else { return nil }
    let rows = state.allViewRows
    switch key {
    case .up, .character("k"): state.contexts.allCursor = max(0, state.contexts.allCursor - 1)
    case .down, .character("j"): state.contexts.allCursor = max(0, min(rows.count - 1, state.contexts.allCursor + 1))
    case .character("g"), .home: state.contexts.allCursor = 0
    case .character("G"), .end: state.contexts.allCursor = max(0, rows.count - 1)
    case .character("s"):
        state.contexts.sumByQueue.toggle()
        state.contexts.allCursor = 0
    case .escape, .character("q"), .left, .character("h"):
        state.contexts.allView = false
    case .enter, .right, .character("l"):
        guard state.contexts.allCursor < rows.count else { return [] }
        let row = rows[state.contexts.allCursor]
        guard let context = row.context else {
            state.flash = Flash("\(row.queue) is summed over \(row.contexts.joined(separator: ", ")): press s for one row per context, then Enter", kind: .info, at: state.now)
            return []
        }
        return requestSwitch(&state, to: context, openQueue: row.queue)
    case .character(let c) where "?:Q[]P".contains(c) || ("1"..."8").contains(c):
        return nil  // help, the command line, quit, refresh and screens work as everywhere
    case .tab, .backTab, .control("r"):
        return nil
    default:
        // Action keys (p, t, +, -) would act on the current context's queue under the
        // overview's cursor, which this view does not show: they do nothing here.
        state.flash = Flash("the all view only reads: Enter opens the row in its context, act there", kind: .info, at: state.now)
    }
    return []
}

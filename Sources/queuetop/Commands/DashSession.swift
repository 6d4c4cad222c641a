import Contexts
import Curses
import Dashboard
import DashboardRuntime
import Foundation
import Postgres
import QueuetopLogging
import QueueStore
import TerminalUI

/// The running dashboard: the drawing thread's loop (this object), the database thread
/// (`EffectRunner`) and the change listener, joined by the inbox and the terminal's waker.
/// The loop never calls libpq: it draws, reads keys, feeds the reducer and posts effects.
final class DashSession {
    private let terminal: Terminal
    /// The current context's database thread and change listener, and the inbox they answer
    /// in. A `:ctx` switch replaces all three: answers still on their way from the old context
    /// land in the old inbox, which nobody drains, so they never show under the new name.
    private var inbox: Inbox
    private var runner: EffectRunner
    private var listener: ChangeListener
    /// For the whole session: the contexts' pollers and the answers to switches.
    private let sessionInbox: Inbox
    private let poller: ContextsPoller?
    private let contextsFile: ContextsFile?
    private let options: ConnectionOptions
    private var state: DashboardState
    /// The embedded pool's recent events; copied into the state when it has new ones.
    private let poolLog: LogRing?
    private var poolLogSeen = 0

    /// How often the loop wakes on its own: the reducer's clock ("3s ago", refresh due, retry
    /// due). Unchanged frames write nothing to the terminal, so this costs no bytes.
    private static let tick = 0.25

    init(databases: DashDatabases, contexts: ContextsFile?, options: ConnectionOptions, poolContext: String?,
         terminal: Terminal, readOnly: Bool, readOnlyReason: String? = nil,
         refreshInterval: Double, initial: HealthSnapshot, standby: StandbyStatus? = nil,
         poolLog: LogRing? = nil, poolStartupError: String? = nil) {
        self.terminal = terminal
        self.poolLog = poolLog
        self.contextsFile = contexts
        self.options = options
        let waker = terminal.waker
        sessionInbox = Inbox(wake: { waker.wake() })
        (inbox, runner, listener) = Self.connect(databases, readOnly: readOnly, waker: waker)
        // Every context read on its own connection (its replica when it has one), read-only.
        let targets = (contexts?.contexts ?? []).compactMap { context in
            (try? options.config(for: context, write: false)).map { ContextsPoller.Target(name: context.name, config: $0) }
        }
        poller = targets.isEmpty ? nil : ContextsPoller(targets: targets, interval: refreshInterval, inbox: sessionInbox)
        var state = DashboardState(now: Date(), readOnly: readOnly)
        state.refreshInterval = refreshInterval
        state.contexts.entries = (contexts?.contexts ?? []).map {
            ContextEntry(name: $0.name, labels: $0.labelText, readOnly: $0.isReadOnly, readsFromReplica: $0.replica != nil)
        }
        state.contexts.current = databases.contextName
        state.contexts.poolContext = poolContext
        if let readOnlyReason {
            // Read-only without being asked: the first thing on the message line says why.
            state.readOnlyReason = readOnlyReason
            state.flash = Flash("read-only: \(readOnlyReason); no workers", kind: .info, at: state.now)
        }
        // The startup check already read a snapshot: the first frame has data.
        _ = reduce(&state, .snapshotLoaded(initial, at: Date()))
        _ = reduce(&state, .standbyLoaded(standby))
        state.poolStartupError = poolStartupError
        self.state = state
        copyPoolLog()
    }

    /// The database thread and the change listener for one context. Notifications come from
    /// the primary (a standby has none), so the listener goes there when reads go to a replica.
    private static func connect(_ databases: DashDatabases, readOnly: Bool, waker: Waker) -> (Inbox, EffectRunner, ChangeListener) {
        let inbox = Inbox(wake: { waker.wake() })
        let runner = EffectRunner(database: databases.reads, actions: databases.actions, actor: OperatorIdentity.current,
                                  readOnly: readOnly, inbox: inbox)
        let listener = ChangeListener(database: databases.primary, onDelivery: { delivered in
            inbox.post([.notificationsDelivered(delivered)])
        }) { inbox.post([.changed(at: Date())]) }
        return (inbox, runner, listener)
    }

    /// `:ctx NAME`: the new context's startup check runs on a thread of its own (a dead server
    /// must not freeze the screen); its answer comes back as `.contextSwitched` or
    /// `.contextSwitchFailed` in the session inbox.
    private func beginSwitch(to name: String, openQueue: String?) {
        let readOnlyFlag = state.readOnly && state.readOnlyReason == nil
        let (file, options, inbox) = (contextsFile, options, sessionInbox)
        let thread = Thread {
            do {
                guard let file else { throw CLIError("no contexts file") }
                let databases = try DashDatabases.resolve(try contextErrors { try file.context(named: name) }, options: options)
                let start = try DashStartup.check(databases, readOnlyFlag: readOnlyFlag)
                inbox.post([.contextSwitched(ContextSwitch(name: name, snapshot: start.snapshot, standby: start.standby,
                                                           readOnly: start.readOnly, readOnlyReason: start.readOnlyReason,
                                                           openQueue: openQueue))])
            } catch {
                inbox.post([.contextSwitchFailed(name, reason: "\(error)", at: Date())])
            }
        }
        thread.name = "queuetop-context-switch"
        thread.start()
    }

    /// The switch succeeded: the old context's thread and listener are let go (a confirmed
    /// action still waiting there runs first, on the old context, as confirmed), the new ones start.
    private func finishSwitch(_ result: ContextSwitch) {
        guard let file = contextsFile, let context = try? file.context(named: result.name),
              let databases = try? DashDatabases.resolve(context, options: options) else { return }
        let (oldRunner, oldListener) = (runner, listener)
        DispatchQueue.global().async { oldListener.stop(); oldRunner.stop() }
        (inbox, runner, listener) = Self.connect(databases, readOnly: result.readOnly, waker: terminal.waker)
        runner.start()
        listener.start()
    }

    /// Hands the ring's events to the reducer when there are new ones (once per tick at most).
    private func copyPoolLog() {
        guard let poolLog, poolLog.total != poolLogSeen else { return }
        poolLogSeen = poolLog.total
        let lines = poolLog.records().map { r in
            PoolLogLine(time: r.time, level: r.level.rawValue, message: r.message, queue: r.field(LogField.queue),
                        jobID: r.field(LogField.jobID).flatMap(UUID.init(uuidString:)), jobEvent: Self.jobEvent(r))
        }
        apply(.poolLogUpdated(lines))
    }

    /// A finished job's fields (Workers/JobEventLog.swift writes them); nil for other events.
    private static func jobEvent(_ r: LogRecord) -> PoolLogLine.JobEvent? {
        guard let type = r.field(LogField.type), let outcome = r.field(LogField.outcome) else { return nil }
        return PoolLogLine.JobEvent(type: type, outcome: outcome, attempt: r.field(LogField.attempt),
                                    errorType: r.field(LogField.errorType), error: r.field(LogField.error))
    }

    /// Runs until the operator quits (nil) or a signal arrives (which one).
    func run() -> TerminalSignal? {
        runner.start()
        listener.start()
        poller?.start()
        var lastTick = Date()
        while !state.quitting {
            var buffer = terminal.makeBuffer()
            let viewport = DashboardView.draw(state, into: &buffer)
            terminal.present(buffer)
            // Before the next key: the reducer clamps job-detail scrolling to what this frame
            // could show, so `k` after `G` (or after a resize) moves the text at once.
            if viewport != state.detailViewport { apply(.detailViewportMeasured(viewport)) }
            switch terminal.nextEvent(timeout: .milliseconds(Int(Self.tick * 1000))) {
            case .key(.control("l")):
                terminal.redrawAll()
            case .key(let key):
                apply(.key(key))
            case .signal(let signal):
                return signal
            case .wake, .timeout:
                break
            }
            // Drained on every pass, not only on `.wake`: a wake-up coalesced with a key press
            // must not leave answers waiting until the next one.
            for message in sessionInbox.drain() {
                if case .contextSwitched(let result) = message { finishSwitch(result) }
                apply(message)
            }
            for message in inbox.drain() { apply(message) }
            let now = Date()
            if now.timeIntervalSince(lastTick) >= Self.tick {
                lastTick = now
                copyPoolLog()
                apply(.tick(now))
            }
        }
        return nil
    }

    private func apply(_ message: Message) {
        var effects = reduce(&state, message)
        // A switch is the session's own work, not the database thread's.
        effects.removeAll { effect in
            guard case .switchContext(let name, let queue) = effect else { return false }
            beginSwitch(to: name, openQueue: queue)
            return true
        }
        runner.post(effects)
        for effect in effects where effect.isTerminalSide { runTerminalEffect(effect) }
    }

    /// `:dump` and `y`: done here, on the drawing thread, which holds the frame and the terminal.
    private func runTerminalEffect(_ effect: Effect) {
        switch effect {
        case .dumpScreen(let path, let overwrite):
            // The screen as it is once the `:dump` line has closed, not the frame that still
            // showed the command being typed.
            var frame = terminal.makeBuffer()
            _ = DashboardView.draw(state, into: &frame)
            let (ok, text) = ScreenDump.write(frame.plainText(), to: path, overwrite: overwrite)
            apply(.terminalEffectDone(text, ok: ok, at: Date()))
        case .copy(let text, let what):
            let refusal = Clipboard.refusal(bytes: text.utf8.count, in: ClipboardEnvironment.current())
            var sent = refusal == nil
            if sent { sent = terminal.sendControlSequence(Clipboard.osc52(text)) }
            let line = refusal == nil && !sent ? "could not write to the terminal - \(what): \(text.prefix(200))"
                : Clipboard.report(what: what, text: text, refusal: refusal)
            apply(.terminalEffectDone(line, ok: sent, at: Date()))
        default:
            break
        }
    }

    /// Stops the listener and the database thread (a confirmed action still waiting runs first).
    func close() {
        poller?.stop()
        listener.stop()
        runner.stop()
    }
}

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
    private let inbox: Inbox
    private let runner: EffectRunner
    private let listener: ChangeListener
    private var state: DashboardState
    /// The embedded pool's recent events; copied into the state when it has new ones.
    private let poolLog: LogRing?
    private var poolLogSeen = 0

    /// How often the loop wakes on its own: the reducer's clock ("3s ago", refresh due, retry
    /// due). Unchanged frames write nothing to the terminal, so this costs no bytes.
    private static let tick = 0.25

    init(database: ConnectionConfig, terminal: Terminal, readOnly: Bool, readOnlyReason: String? = nil,
         refreshInterval: Double, initial: HealthSnapshot, standby: StandbyStatus? = nil,
         poolLog: LogRing? = nil, poolStartupError: String? = nil) {
        self.terminal = terminal
        self.poolLog = poolLog
        let waker = terminal.waker
        let inbox = Inbox(wake: { waker.wake() })
        self.inbox = inbox
        runner = EffectRunner(database: database, actor: OperatorIdentity.current, readOnly: readOnly, inbox: inbox)
        listener = ChangeListener(database: database, onDelivery: { delivered in
            inbox.post([.notificationsDelivered(delivered)])
        }) { inbox.post([.changed(at: Date())]) }
        var state = DashboardState(now: Date(), readOnly: readOnly)
        state.refreshInterval = refreshInterval
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

    /// Hands the ring's events to the reducer when there are new ones (once per tick at most).
    private func copyPoolLog() {
        guard let poolLog, poolLog.total != poolLogSeen else { return }
        poolLogSeen = poolLog.total
        let lines = poolLog.records().map { r in
            PoolLogLine(time: r.time, level: r.level.rawValue, message: r.message, queue: r.field(LogField.queue),
                        jobID: r.field(LogField.jobID).flatMap(UUID.init(uuidString:)))
        }
        apply(.poolLogUpdated(lines))
    }

    /// Runs until the operator quits (nil) or a signal arrives (which one).
    func run() -> TerminalSignal? {
        runner.start()
        listener.start()
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
        let effects = reduce(&state, message)
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
        listener.stop()
        runner.stop()
    }
}

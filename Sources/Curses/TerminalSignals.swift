#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A signal the main loop must act on. The handler itself does nothing but write one byte to
/// the self-pipe (async-signal-safe); restoring the terminal and stopping workers happen in
/// the main loop, where it is safe to call anything.
public enum TerminalSignal: Hashable, Sendable {
    /// SIGHUP: the SSH session dropped.
    case hangup
    /// SIGTERM.
    case terminate
    /// SIGINT (Ctrl-C; cbreak mode keeps it a signal).
    case interrupt
}

/// The descriptor the C signal handler writes to. Set once, before any handler is installed,
/// and never changed afterwards, which is what makes the unchecked access sound.
nonisolated(unsafe) private var signalWriteFD: Int32 = -1

private let forwardSignal: @convention(c) (Int32) -> Void = { signo in
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signo)
    _ = write(signalWriteFD, &byte, 1)
    errno = savedErrno
}

enum TerminalSignals {
    static let routed: [Int32] = [SIGHUP, SIGTERM, SIGINT, SIGWINCH]

    /// Routes the signals into `pipe`. SIGWINCH is ours too: installing a handler before
    /// curses starts stops ncurses from installing its own, and the main loop then calls
    /// `resizeterm`, which queues KEY_RESIZE exactly once.
    static func install(into pipe: WakeupPipe) {
        if signalWriteFD < 0 { signalWriteFD = pipe.writeFD }
        for signo in routed { _ = signal(signo, forwardSignal) }
    }

    /// After the terminal is restored a second Ctrl-C should kill the process as usual (a
    /// force-quit during a graceful shutdown); HUP and TERM stay routed, so a dropped session
    /// cannot interrupt the drain.
    static func releaseAfterRestore() {
        _ = signal(SIGINT, SIG_DFL)
        _ = signal(SIGWINCH, SIG_DFL)
    }

    /// Undoes `install` when the terminal could not be started, so Ctrl-C works as usual.
    static func resetToDefault() {
        for signo in routed { _ = signal(signo, SIG_DFL) }
    }

    static func decode(_ byte: UInt8) -> TerminalSignal? {
        switch Int32(byte) {
        case SIGHUP: return .hangup
        case SIGTERM: return .terminate
        case SIGINT: return .interrupt
        default: return nil
        }
    }
}

import CNCursesW
import TerminalUI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Terminal {
    /// Waits for the next key, wake-up or signal, at most `timeout` (nil waits forever).
    ///
    /// Sleeps in `poll()` on stdin and the self-pipe, so a wake-up from the database thread or
    /// a signal ends the wait at once; keys are then read without blocking. Signals come first,
    /// then keys already buffered by curses, then wake-ups.
    public func nextEvent(timeout: Duration?) -> TerminalEvent {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            if !pendingEvents.isEmpty { return pendingEvents.removeFirst() }
            collectPipeEvents()
            if !pendingEvents.isEmpty { return pendingEvents.removeFirst() }
            if let key = readKey() { return .key(key) }

            var waitMilliseconds: Int32 = -1
            if let deadline {
                let remaining = ContinuousClock.now.duration(to: deadline)
                if remaining <= .zero { return .timeout }
                let (seconds, attoseconds) = remaining.components
                waitMilliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            }
            // After restore() (or a hang-up) only the pipe is watched: the loop can keep waiting
            // for wake-ups and signals during a graceful shutdown without touching the terminal.
            let watchInput = isActive && !inputClosed
            var fds = [
                pollfd(fd: pipe.readFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, watchInput ? 2 : 1, waitMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }  // A signal: its byte is in the pipe.
                return .timeout
            }
            if ready == 0 { return .timeout }
            let hangup = Int16(POLLHUP | POLLERR | POLLNVAL)
            if watchInput && fds[1].revents & hangup != 0 {
                // The terminal is gone (SSH dropped) and SIGHUP may not reach us. A dead tty
                // stays "readable" forever, so report it once and stop watching it.
                if let key = readKey() { return .key(key) }
                inputClosed = true
                return .signal(.hangup)
            }
        }
    }

    /// Turns self-pipe bytes into events: signals, one coalesced wake-up, resizes.
    private func collectPipeEvents() {
        var woke = false
        for byte in pipe.drain() {
            if byte == WakeupPipe.wakeByte {
                woke = true
            } else if Int32(byte) == SIGWINCH {
                if let event = handleWindowChange() { pendingEvents.append(event) }
            } else if let signal = TerminalSignals.decode(byte) {
                pendingEvents.append(.signal(signal))
            }
        }
        if woke { pendingEvents.append(.wake) }
    }

    /// Asks the kernel for the new size and tells curses. Returns a resize key only when the
    /// size really changed (a burst of SIGWINCH while dragging a window yields few redraws).
    private func handleWindowChange() -> TerminalEvent? {
        guard isActive else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 else { return nil }
        let width = Int(size.ws_col), height = Int(size.ws_row)
        guard width != reportedSize.width || height != reportedSize.height else { return nil }
        resizeterm(Int32(height), Int32(width))
        noteResized(width: width, height: height)
        return .key(.resize)
    }

    /// One key if curses has one, without blocking.
    private func readKey() -> Key? {
        guard isActive, !inputClosed else { return nil }
        var code: wint_t = 0
        let result = wget_wch(qt_stdscr(), &code)
        if result == ERR { return nil }
        if result == KEY_CODE_YES {
            let key = KeyDecoder.decode(keyCode: Int32(code))
            if key == .resize {
                // resizeterm() queues KEY_RESIZE after we already reported the change.
                let (width, height) = self.size
                if width == reportedSize.width && height == reportedSize.height { return readKey() }
                noteResized(width: width, height: height)
            }
            return key
        }
        return Key.fromCharacterCode(UInt32(code))
    }
}

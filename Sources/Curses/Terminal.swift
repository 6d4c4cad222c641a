import CNCursesW
import TerminalUI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the main loop wakes up for.
public enum TerminalEvent: Hashable, Sendable {
    case key(Key)
    /// Another thread called `Waker.wake()` (e.g. new data in the mailbox). Coalesced: many
    /// wake-ups between two reads arrive as one.
    case wake
    /// SIGHUP, SIGTERM or SIGINT arrived. The loop should restore the terminal and shut down.
    case signal(TerminalSignal)
    /// Nothing happened before the timeout: time for a periodic redraw ("3s ago" ticks).
    case timeout
}

/// The only place that talks to ncurses. Copies `ScreenBuffer`s to the screen, cell by
/// changed cell, and turns input, wake-ups and signals into `TerminalEvent`s.
///
/// Not `Sendable` on purpose: curses is not thread-safe, so the compiler keeps this object on
/// the thread that made it. Other threads get a `Waker`.
///
/// The main loop, on the drawing thread:
/// ```swift
/// let terminal = try Terminal()
/// defer { terminal.restore() }
/// let waker = terminal.waker              // the database thread posts, then calls waker.wake()
/// while running {
///     var buffer = terminal.makeBuffer()  // sized to the terminal, with its glyphs
///     draw(state, now: clock(), into: &buffer)
///     terminal.present(buffer)            // unchanged cells cost nothing
///     switch terminal.nextEvent(timeout: .milliseconds(500)) {
///     case .key(.control("l")): terminal.redrawAll()
///     case .key(let key): state = reduce(state, key)  // .resize just redraws at the new size
///     case .wake: drain the mailbox into the reducer
///     case .signal: running = false       // restore, then stop the workers gracefully
///     case .timeout: tick ("3s ago", refresh timer)
///     }
/// }
/// ```
public final class Terminal {
    /// Colour or attributes only, Unicode or ASCII: decided once at start.
    public let profile: TerminalProfile
    public var prefersASCII: Bool { profile.prefersASCII }
    public var usesColor: Bool { profile.usesColor }
    /// The glyphs views should draw with on this terminal.
    public var glyphs: GlyphSet { profile.glyphs }
    public var theme: Theme {
        didSet { needsFullRedraw = true }
    }
    public private(set) var isActive = false
    /// Cells sent to curses by the last `present` (0 for an unchanged frame).
    public private(set) var lastPresentCellCount = 0

    let pipe: WakeupPipe
    private var colorPairs: ColorPairs
    private var previous: ScreenBuffer?
    var needsFullRedraw = true
    /// Non-UTF-8 locale: curses cannot encode non-ASCII, so such data is shown as "?".
    private let asciiOutputOnly: Bool
    var pendingEvents: [TerminalEvent] = []
    /// Set once stdin reports a hang-up, so a dead terminal is reported once, not polled forever.
    var inputClosed = false
    /// The size last announced with a `.resize` key, to drop duplicate announcements.
    var reportedSize: (width: Int, height: Int)

    /// Starts curses on the controlling terminal. Throws instead of exiting (as `initscr`
    /// would) so the caller can print a useful message.
    public init(theme: Theme = .standard, escapeDelayMilliseconds: Int32 = 25) throws(TerminalError) {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw .notATerminal }
        setlocale(LC_ALL, "")
        let codeset = qt_codeset().map { String(cString: $0) }
        let term = getenv("TERM").map { String(cString: $0) }
        self.theme = theme
        self.pipe = try WakeupPipe()
        // Before newterm: ncurses only installs its own SIGWINCH handler if none is set.
        TerminalSignals.install(into: pipe)
        guard let output = fdopen(STDOUT_FILENO, "w"), let input = fdopen(STDIN_FILENO, "r") else {
            TerminalSignals.resetToDefault()
            throw .system(call: "fdopen", errno: errno)
        }
        var forcedASCII = false
        var screen = newterm(nil, output, input)
        if screen != nil && !Self.canAddressCursor() {
            // TERM=dumb (an SSH client that sent no TERM) has no cursor addressing: curses
            // would print only the last line. The terminal behind it is almost always
            // VT100-compatible, so drive it as one.
            endwin()
            delscreen(screen)
            screen = nil
        }
        if screen == nil {
            // Same for an unknown TERM (a fresh container, an exotic client): a plain but
            // usable dashboard beats an exit.
            guard newterm("vt100", output, input) != nil else {
                TerminalSignals.resetToDefault()
                throw .unsupportedTerminal(term: term ?? "")
            }
            forcedASCII = true
        }
        cbreak()
        noecho()
        nonl()
        intrflush(qt_stdscr(), false)
        keypad(qt_stdscr(), true)
        _ = curs_set(0)
        set_escdelay(escapeDelayMilliseconds)
        // Home/End differ between terminals and TERM is often wrong over SSH (xterm inside
        // tmux); teaching curses the common variants keeps g/G-style navigation working.
        for (sequence, code) in [("\u{1B}[1~", KEY_HOME), ("\u{1B}[4~", KEY_END), ("\u{1B}[H", KEY_HOME),
                                 ("\u{1B}[F", KEY_END), ("\u{1B}OH", KEY_HOME), ("\u{1B}OF", KEY_END),
                                 ("\u{1B}[7~", KEY_HOME), ("\u{1B}[8~", KEY_END)] {
            _ = define_key(sequence, code)
        }
        // Never block inside curses: waiting happens in poll(), where wake-ups can reach us.
        wtimeout(qt_stdscr(), 0)
        leaveok(qt_stdscr(), true)

        let noColor = getenv("NO_COLOR").map { String(cString: $0) }
        var wantsColor = TerminalProfile.usesColor(noColor: noColor, hasColors: has_colors(), colorCount: 8)
        var defaultColors = false
        if wantsColor {
            wantsColor = start_color() != ERR && qt_colors() >= 8
            defaultColors = wantsColor && use_default_colors() != ERR
        }
        profile = TerminalProfile(
            usesColor: wantsColor,
            prefersASCII: forcedASCII || TerminalProfile.prefersASCII(codeset: codeset, term: term))
        asciiOutputOnly = !TerminalProfile.isUTF8(codeset: codeset)
        colorPairs = ColorPairs(defaultColorsAvailable: defaultColors, maxPairs: 64)
        reportedSize = (Int(qt_cols()), Int(qt_lines()))
        isActive = true
    }

    deinit { restore() }

    /// Whether the terminfo entry in use can position the cursor ("cup").
    private static func canAddressCursor() -> Bool {
        guard let capability = tigetstr("cup") else { return false }
        // tigetstr returns (char *)-1 for "not a string capability".
        return Int(bitPattern: capability) != -1
    }

    /// The terminal's size now (updated on resize).
    public var size: (width: Int, height: Int) { (Int(qt_cols()), Int(qt_lines())) }

    /// A blank buffer the size of the terminal, with this terminal's glyphs.
    public func makeBuffer() -> ScreenBuffer {
        ScreenBuffer(width: size.width, height: size.height, glyphs: glyphs)
    }

    func noteResized(width: Int, height: Int) {
        reportedSize = (width, height)
        needsFullRedraw = true
    }

    /// A handle other threads use to wake `nextEvent`.
    public var waker: Waker { Waker(pipe: pipe) }

    /// Repaints everything on the next `present` (Ctrl-L, or after something else wrote to
    /// the terminal).
    public func redrawAll() {
        needsFullRedraw = true
        if isActive { clearok(qt_stdscr(), true) }
    }

    /// Puts the terminal back as it was. Idempotent; call it from the main loop on quit, on a
    /// `.signal` event, and (via `deinit`) on the way out. Never from a signal handler.
    public func restore() {
        guard isActive else { return }
        isActive = false
        _ = curs_set(1)
        // Without an alternate screen (TERM=dumb, a bare VT100) endwin leaves the last frame
        // where the shell continues; clear it so the prompt returns to an empty terminal.
        if qt_has_alternate_screen() == 0 {
            werase(qt_stdscr())
            wrefresh(qt_stdscr())
        }
        endwin()
        TerminalSignals.releaseAfterRestore()
    }
}

// MARK: - Output

extension Terminal {
    /// Shows `buffer`. Only cells that differ from the last presented buffer are handed to
    /// curses, and curses sends only what differs from the real screen, so an unchanged
    /// frame writes nothing. The screen is erased only after a resize or `redrawAll()`.
    public func present(_ buffer: ScreenBuffer) {
        guard isActive else { return }
        let window = qt_stdscr()
        let (width, height) = size
        var count = 0
        var erased = false
        if needsFullRedraw || previous == nil || previous?.width != buffer.width || previous?.height != buffer.height {
            werase(window)
            erased = true
            for y in 0..<min(buffer.height, height) {
                for x in 0..<min(buffer.width, width) {
                    let cell = buffer[x, y]
                    // erase() already left blanks; skipping them keeps a full redraw small.
                    if cell == .blank || cell.isContinuation { continue }
                    draw(cell, x: x, y: y, in: window)
                    count += 1
                }
            }
            needsFullRedraw = false
        } else if let previous {
            for change in buffer.diff(from: previous) where !change.cell.isContinuation {
                guard change.x < width, change.y < height else { continue }
                draw(change.cell, x: change.x, y: change.y, in: window)
                count += 1
            }
        }
        previous = buffer
        lastPresentCellCount = count
        // Nothing changed and nothing erased: skip refresh entirely, zero bytes on the wire.
        if count > 0 || erased { wrefresh(window) }
    }

    private func draw(_ cell: Cell, x: Int, y: Int, in window: UnsafeMutablePointer<WINDOW>?) {
        let resolved = theme.resolve(cell.style, colors: usesColor)
        let pair = usesColor ? colorPairs.pair(foreground: resolved.foreground, background: resolved.background) : 0
        let attributes = CursesAttributes.from(resolved.attributes)
        var scalars = Array(cell.character.unicodeScalars.prefix(Int(CCHARW_MAX) - 1))
        var padRight = false
        if asciiOutputOnly, scalars.contains(where: { !$0.isASCII }) {
            padRight = DisplayWidth.of(cell.character) == 2
            scalars = ["?"]
        }
        var wide = scalars.map { wchar_t(bitPattern: $0.value) }
        wide.append(0)
        var glyph = cchar_t()
        _ = setcchar(&glyph, wide, attributes, pair, nil)
        // ERR at the bottom-right cell is expected (the cursor cannot advance); the cell is drawn.
        _ = mvwadd_wch(window, Int32(y), Int32(x), &glyph)
        if padRight {
            var blank = cchar_t()
            var space: [wchar_t] = [32, 0]
            _ = setcchar(&blank, &space, attributes, pair, nil)
            _ = mvwadd_wch(window, Int32(y), Int32(x + 1), &blank)
        }
    }
}

// MARK: - Control sequences

extension Terminal {
    /// Writes a sequence the screen does not show (OSC 52, `y`) straight to the terminal, between
    /// two frames: curses has flushed its output by then (`present` ends in a refresh), so the
    /// bytes cannot land inside one of its sequences. Returns false if the write failed.
    public func sendControlSequence(_ bytes: [UInt8]) -> Bool {
        guard isActive else { return false }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            offset += n
        }
        return true
    }
}

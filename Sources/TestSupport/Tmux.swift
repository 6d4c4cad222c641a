import Foundation

/// A detached tmux session running a plain shell, for driving the real dashboard as an operator
/// would: type into it, read the screen back, check the terminal was restored. Each session runs
/// on its own tmux server (`-L`), so it never shares a server — with its environment and signal
/// mask — with anybody else's tmux; `close` kills that server only.
public final class TmuxSession: @unchecked Sendable {  // used from one test thread
    public let name: String
    /// The shell's prompt, so tests can tell "back at the shell" from anything else.
    public static let prompt = "qt-shell$ "

    /// Starts `bash` (no rc files, a known prompt) at `width`×`height`, with `environment` set.
    public init(width: Int = 120, height: Int = 40, environment: [String: String] = [:]) throws {
        name = "qt-\(UUID().uuidString.prefix(8).lowercased())"
        var args = ["new-session", "-d", "-s", name, "-x", String(width), "-y", String(height)]
        for (key, value) in environment.merging(["PS1": Self.prompt, "TERM": "xterm-256color"], uniquingKeysWith: { a, _ in a }) {
            args += ["-e", "\(key)=\(value)"]
        }
        args += ["bash --norc --noprofile"]
        try tmux(args)
        // bash replaces an inherited PS1 for root; set it where it sticks.
        try type("PS1='\(Self.prompt)'; clear", enter: true)
        // capture-pane drops trailing blanks, so the prompt's space is not on screen.
        _ = waitFor(timeout: 10) { $0.hasPrefix(Self.prompt.trimmingCharacters(in: .whitespaces)) }
    }

    deinit { close() }

    public func close() { _ = try? tmux(["kill-server"]) }

    /// Sets a server option of this session's tmux (e.g. `set-clipboard on`, which lets an
    /// application's OSC 52 reach tmux's paste buffer).
    public func setServerOption(_ option: String, _ value: String) throws { try tmux(["set-option", "-s", option, value]) }

    /// The newest paste buffer (where OSC 52 lands with `set-clipboard on`); nil when there is none.
    public func pasteBuffer() -> String? { try? tmux(["show-buffer"]) }

    /// Types `text` literally, then Enter if asked.
    public func type(_ text: String, enter: Bool = false) throws {
        try tmux(["send-keys", "-t", name, "-l", text])
        if enter { try tmux(["send-keys", "-t", name, "Enter"]) }
    }

    /// Sends tmux key names: "Down", "Enter", "Escape", "C-l".
    public func keys(_ names: String...) throws {
        try tmux(["send-keys", "-t", name] + names)
    }

    /// The visible screen as text, one line per row.
    public func screen() -> String {
        let started = Date()
        let text = (try? tmux(["capture-pane", "-p", "-t", name])) ?? ""
        // A slow capture is the machine, not the dashboard: say so in the log, where a failed
        // wait's cause is looked for.
        let seconds = Date().timeIntervalSince(started)
        if seconds > 5 { FileHandle.standardError.write(Data("TMUX | capture-pane of \(name) took \(Int(seconds)) s\n".utf8)) }
        return text
    }

    /// The visible screen with its SGR escapes (`capture-pane -e`), to check colour and attributes.
    public func screenWithEscapes() -> String { (try? tmux(["capture-pane", "-p", "-e", "-t", name])) ?? "" }

    /// Resizes the window (and its one pane) as a terminal emulator would; the program gets SIGWINCH.
    public func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", name, "-x", String(width), "-y", String(height)])
    }

    /// Whether the pane shows the alternate screen (curses is running and has not restored).
    public var alternateScreenOn: Bool {
        (try? tmux(["display-message", "-p", "-t", name, "#{alternate_on}"]))?.hasPrefix("1") ?? false
    }

    /// The pid of the process the shell is running in the foreground (the dashboard), if any.
    public func foregroundChildPID() -> Int32? {
        guard let shell = try? tmux(["display-message", "-p", "-t", name, "#{pane_pid}"]),
              let children = try? Self.run("/usr/bin/pgrep", ["-P", shell.trimmingCharacters(in: .whitespacesAndNewlines)]) else { return nil }
        return children.split(separator: "\n").first.flatMap { Int32($0) }
    }

    /// Appends everything the pane's program writes to the terminal to `path` (bytes as sent).
    public func recordOutput(to path: String) throws {
        try tmux(["pipe-pane", "-o", "-t", name, "cat >> '\(path)'"])
    }

    /// Polls the screen until `condition` holds; returns the last screen if it does, nil on timeout.
    @discardableResult
    public func waitFor(timeout: Double = 15, _ condition: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let text = screen()
            if condition(text) { return text }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        // One capture after the deadline: a capture that itself outlasted the deadline (tmux
        // starved in a full suite run) may have been taken before the screen changed.
        let last = screen()
        if condition(last) { return last }
        // The failure message usually prints a fresh capture; the capture the loop judged is the
        // evidence. One that plainly holds the awaited text means the condition that ran is not the
        // one written: Swift 6.3.1 can swap a closure for another (scripts/check-closures finds it).
        FileHandle.standardError.write(Data("TMUX | wait of \(timeout) s on \(name) failed; the last capture it judged:\n\(last)\nTMUX | end of capture; its non-ASCII or control scalars: \(Self.unusualScalars(last))\n".utf8))
        return nil
    }

    /// Every scalar of `text` outside printable ASCII but for newlines and the box drawing the screens
    /// use, with its offset: what a capture that looks right but fails a `contains` holds.
    static func unusualScalars(_ text: String) -> String {
        text.unicodeScalars.enumerated().compactMap { offset, scalar in
            let v = scalar.value
            if v == 10 || (32..<127).contains(v) || (0x2500..<0x2580).contains(v) || v == 0xB7 { return nil }
            return "\(offset):U+\(String(v, radix: 16, uppercase: true))"
        }.prefix(40).joined(separator: " ")
    }

    @discardableResult
    func tmux(_ args: [String]) throws -> String { try Self.run("/usr/bin/tmux", ["-L", name] + args) }

    /// Runs a program to completion and returns its stdout. posix_spawn and waitpid rather than
    /// Foundation's Process: a test runs on a thread that blocks every signal, children inherit
    /// that mask, and a tmux server started with SIGCHLD/SIGTERM blocked misbehaves (and under
    /// Process its client was never reaped). The child gets an empty mask and default handlers,
    /// like a program started from a shell. Output goes to a file, not a pipe, because
    /// `new-session` forks the server, which would hold a pipe open forever.
    @discardableResult
    static func run(_ executable: String, _ args: [String]) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("qt-tmux-\(UUID().uuidString)").path
        defer { unlink(file) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // (A capture that "printed right but failed `contains`" was once blamed on this read; it was
        // the compiler running another closure as the condition. Every waitpid here returned the pid.)
        guard let bytes = FileManager.default.contents(atPath: file) else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }
}

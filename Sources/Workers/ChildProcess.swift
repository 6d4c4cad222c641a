import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Serialises pipe creation and spawning: pipe2(O_CLOEXEC) is not visible to Swift on Glibc, so
/// between pipe() and fcntl(FD_CLOEXEC) another thread's spawn could inherit our pipe ends — a
/// leaked stdin write end would keep a child waiting for EOF forever.
private let spawnLock = Mutex<Void>(())

/// How a child process ended.
struct ChildResult: Sendable {
    var exitCode: Int32?
    var signal: Int32?
    var timedOut = false
    var cancelled = false
    /// The first `stdoutLimit` bytes of stdout (the job's result), and whether there was more.
    var stdout = ""
    var stdoutOverflowed = false
    var stderrTail = ""
}

enum ChildProcessError: Error, CustomStringConvertible {
    case spawnFailed(program: String, errno: Int32)
    var description: String {
        switch self {
        case let .spawnFailed(program, code):
            return "cannot start '\(program)': \(String(cString: strerror(code)))"
        }
    }
}

/// Runs a program in its own process group so a timeout can kill it *and* whatever it started.
/// One thread drives stdin, stdout and stderr with poll(2), so a child that writes a lot of
/// output before reading its input cannot deadlock us. Foundation's Process is not used because it
/// cannot put the child in a new process group.
enum ChildProcess {
    /// Bytes of stderr kept (the tail: the end of a log says what went wrong).
    static let tailLimit = 4096
    /// Bytes of stdout kept (the head: it is the job's result, which is useless cut at the front).
    static let stdoutLimit = JobResult.limitBytes

    static func run(argv: [String], environment: [String: String],
                    input: Data, timeout: TimeInterval, cancellation: CancellationFlag) throws -> ChildResult {
        precondition(!argv.isEmpty)
        let (pid, stdin, stdout, stderr) = try spawnLock.withLock { _ in try spawn(argv: argv, environment: environment) }
        return supervise(pid: pid, stdin: stdin, stdout: stdout, stderr: stderr,
                         input: input, timeout: timeout, cancellation: cancellation)
    }

    private static func spawn(argv: [String], environment: [String: String]) throws -> (pid_t, Int32, Int32, Int32) {
        var stdinPipe: [Int32] = [0, 0], stdoutPipe: [Int32] = [0, 0], stderrPipe: [Int32] = [0, 0]
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            throw ChildProcessError.spawnFailed(program: argv[0], errno: errno)
        }
        for fd in stdinPipe + stdoutPipe + stderrPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // New process group; and undo what the worker did to its own signals (it blocks the
        // shutdown signals and ignores SIGPIPE), which a child would otherwise inherit.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawnStatus = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgs, cEnv)
        for fd in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] { close(fd) }
        guard spawnStatus == 0 else {
            for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { close(fd) }
            throw ChildProcessError.spawnFailed(program: argv[0], errno: spawnStatus)
        }
        return (pid, stdinPipe[1], stdoutPipe[0], stderrPipe[0])
    }

    private static func supervise(pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32, input: Data,
                                  timeout: TimeInterval, cancellation: CancellationFlag) -> ChildResult {
        var result = ChildResult()
        var inputFD: Int32? = stdin
        _ = fcntl(stdin, F_SETFL, fcntl(stdin, F_GETFL) | O_NONBLOCK)
        var written = 0
        var outBuffer = Data(), errBuffer = Data()
        var openOutputs: Set<Int32> = [stdout, stderr]
        let deadline = Date().addingTimeInterval(timeout)
        var exited = false, status: Int32 = 0
        var drainUntil: Date?  // after exit, read leftovers briefly; a grandchild may hold the pipe open

        if input.isEmpty { close(stdin); inputFD = nil }
        while true {
            var fds: [pollfd] = openOutputs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if let inputFD { fds.append(pollfd(fd: inputFD, events: Int16(POLLOUT), revents: 0)) }
            if !fds.isEmpty { _ = poll(&fds, nfds_t(fds.count), 50) } else { usleep(20_000) }
            for entry in fds where entry.revents != 0 {
                if entry.fd == inputFD {
                    let n = input.withUnsafeBytes { raw in
                        write(entry.fd, raw.baseAddress! + written, raw.count - written)
                    }
                    if n > 0 { written += n }
                    if n < 0 && errno != EAGAIN || written >= input.count {
                        close(entry.fd); inputFD = nil  // EOF tells the child the payload is complete
                    }
                } else {
                    var chunk = [UInt8](repeating: 0, count: 8192)
                    let n = read(entry.fd, &chunk, chunk.count)
                    if n <= 0 { openOutputs.remove(entry.fd); close(entry.fd); continue }
                    if entry.fd == stdout { appendHead(&outBuffer, chunk[0..<n], overflowed: &result.stdoutOverflowed) } else { appendTail(&errBuffer, chunk[0..<n]) }
                }
            }
            if !exited, waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                drainUntil = Date().addingTimeInterval(0.2)
            }
            if exited && (openOutputs.isEmpty || Date() > drainUntil!) { break }
            if !exited && (Date() > deadline || cancellation.isCancelled) {
                result.timedOut = !cancellation.isCancelled
                result.cancelled = cancellation.isCancelled
                killGroup(pid)
                _ = waitpid(pid, &status, 0)
                exited = true
                break
            }
        }
        if let inputFD { close(inputFD) }
        openOutputs.forEach { close($0) }
        if exited && !result.timedOut && !result.cancelled {
            // WIFEXITED / WEXITSTATUS are macros Swift cannot import.
            if status & 0x7f == 0 { result.exitCode = (status >> 8) & 0xff } else { result.signal = status & 0x7f }
        }
        result.stdout = String(decoding: outBuffer, as: UTF8.self)
        result.stderrTail = String(decoding: errBuffer, as: UTF8.self)
        return result
    }

    /// How long a stopped command (timeout, operator cancel, shutdown) has between SIGTERM and
    /// SIGKILL to clean up. Short: the worker's own shutdown grace, or an operator, already waited.
    static let terminationGrace: TimeInterval = 2

    /// SIGTERM to the whole group, `terminationGrace` to clean up, then SIGKILL (to the group
    /// either way: whatever the leader started that is still there goes too).
    private static func killGroup(_ pid: pid_t) {
        kill(-pid, SIGTERM)
        for _ in 0..<Int(terminationGrace / 0.025) {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { kill(-pid, SIGKILL); return }
            usleep(25_000)
        }
        kill(-pid, SIGKILL)
    }

    private static func appendHead(_ buffer: inout Data, _ bytes: ArraySlice<UInt8>, overflowed: inout Bool) {
        let room = stdoutLimit - buffer.count
        if bytes.count > room { overflowed = true }
        buffer.append(contentsOf: bytes.prefix(max(0, room)))
    }

    private static func appendTail(_ buffer: inout Data, _ bytes: ArraySlice<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count > tailLimit { buffer.removeFirst(buffer.count - tailLimit) }
    }
}

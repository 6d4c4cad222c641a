import Foundation

/// Runs a program with the job's payload on stdin.
///
/// | exit code           | outcome |
/// |---------------------|---------|
/// | 0                   | completed; stdout (JSON, else a JSON string) is the job's result |
/// | 75 (EX_TEMPFAIL)    | retried, error_type `command_tempfail` |
/// | timeout             | retried, error_type `timeout` (the process group is killed) |
/// | operator cancel     | cancelled (operator): SIGTERM to the group, SIGKILL 2 s later |
/// | anything else       | DLQ, error_type `command_failed` (killed by a signal: `command_signal`) |
///
/// The child also gets QUEUETOP_JOB_ID, QUEUETOP_QUEUE, QUEUETOP_JOB_TYPE and QUEUETOP_ATTEMPT in
/// its environment; the tail of stderr goes into error_details.
public struct CommandHandler: JobHandler, CustomStringConvertible, CustomReflectable {
    public static let tempFail: Int32 = 75
    public let argv: [String]
    public let timeout: TimeInterval
    /// Extra environment (secrets resolved at startup), on top of the worker's own.
    private let environment: [String: String]

    public init(argv: [String], timeout: TimeInterval, environment: [String: String] = [:]) {
        precondition(!argv.isEmpty, "a command needs a program")
        self.argv = argv
        self.timeout = timeout
        self.environment = environment
        // A child that exits without reading all its stdin must not kill the whole process (the
        // dashboard embeds this pool) with SIGPIPE; write() then fails with EPIPE, handled below.
        signal(SIGPIPE, SIG_IGN)
    }

    public var kind: String { "command" }

    /// Names only: the environment may hold resolved secrets, so neither printing nor reflecting
    /// (`dump`, `String(reflecting:)`) shows its values.
    public var description: String {
        "command \(argv.joined(separator: " ")) (timeout \(Int(timeout)) s, env \(environment.keys.sorted().joined(separator: ",")))"
    }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }

    public func handle(_ context: JobContext) -> JobOutcome {
        let job = context.job
        var env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        env["QUEUETOP_JOB_ID"] = job.id.text
        env["QUEUETOP_QUEUE"] = job.queue
        env["QUEUETOP_JOB_TYPE"] = job.type
        env["QUEUETOP_ATTEMPT"] = String(job.attempt)
        let result: ChildResult
        do {
            result = try ChildProcess.run(argv: argv, environment: env,
                                          input: Data(job.payload.utf8), timeout: timeout,
                                          cancellation: context.cancellation)
        } catch {
            // The program vanished or lost its permissions since startup: retry, it may come back.
            return .failed(HandlerFailure(message: String(describing: error), errorType: "command_failed",
                                      details: ["program": argv[0]], retryable: true))
        }
        return Self.outcome(result, program: argv[0], timeout: timeout, cancelReason: context.cancellation.reason)
    }

    static func outcome(_ result: ChildResult, program: String, timeout: TimeInterval,
                        cancelReason: CancellationFlag.Reason? = nil) -> JobOutcome {
        var details: [String: any Sendable] = ["program": program,
                                               "stderr_tail": JSONSupport.snippet(result.stderrTail, limit: 2048, keepTail: true)]
        if result.cancelled {
            // What it printed before it was stopped is kept (error_details.stdout_partial).
            details["stdout_partial"] = JSONSupport.snippet(result.stdout, limit: 8192)
            return .failed(StoppedEarly.failure(cancelReason, what: program, details: details))
        }
        if result.timedOut {
            details["timeout_s"] = timeout
            return .failed(HandlerFailure(message: "\(program) did not finish within \(Int(timeout)) s (killed)",
                                      errorType: "timeout", details: details, retryable: true))
        }
        if let signal = result.signal {
            details["signal"] = Int(signal)
            return .failed(HandlerFailure(message: "\(program) was killed by signal \(signal)", errorType: "command_signal",
                                      details: details, retryable: false))
        }
        let code = result.exitCode ?? -1
        details["exit_code"] = Int(code)
        let lastLine = result.stderrTail.split(separator: "\n").last.map(String.init) ?? ""
        let suffix = lastLine.isEmpty ? "" : ": " + JSONSupport.snippet(lastLine, limit: 200)
        switch code {
        case 0:
            if result.stdoutOverflowed {
                // A cut result would be wrong, not short: keep a note instead (as complete_jobs does).
                return .completedWithResult(#"{"result_not_stored": "stdout larger than 64 KiB"}"#)
            }
            return .completed(output: result.stdout)
        case tempFail:
            return .failed(HandlerFailure(message: "\(program) asked for a retry (exit 75)\(suffix)",
                                      errorType: "command_tempfail", details: details, retryable: true))
        default:
            return .failed(HandlerFailure(message: "\(program) exited with \(code)\(suffix)",
                                      errorType: "command_failed", details: details, retryable: false))
        }
    }
}

import Foundation

/// Processes one job on an executor thread. Handlers block (a child process, an HTTP request, a
/// SQL call), which is why the pool runs them on its own OS threads, never on Swift's
/// cooperative pool. Each handler enforces its own timeout.
public protocol JobHandler: Sendable {
    /// The config kind (`http`, `command`, `sql`, `simulate`, `noop`), for logs and snapshots.
    var kind: String { get }
    func handle(_ context: JobContext) -> JobOutcome
}

/// Completes every job at once: the benchmark handler.
public struct NoopHandler: JobHandler {
    public init() {}
    public var kind: String { "noop" }
    public func handle(_ context: JobContext) -> JobOutcome { .completed }
}

/// Job type -> handler. `noop` and `simulate` are bound without any config; a config file adds
/// or overrides bindings, and `*` catches every other type.
public struct HandlerTable: Sendable {
    public private(set) var bindings: [String: any JobHandler]

    public init(bindings: [String: any JobHandler] = [:]) {
        var all: [String: any JobHandler] = ["noop": NoopHandler(), "simulate": SimulateHandler()]
        for (type, handler) in bindings { all[type] = handler }
        self.bindings = all
    }

    public func handler(for type: String) -> (any JobHandler)? {
        bindings[type] ?? bindings["*"]
    }

    /// Runs the job through its handler; a type nobody handles goes to the DLQ (fix the config,
    /// then requeue), because retrying cannot make a handler appear.
    public func run(_ context: JobContext) -> JobOutcome {
        guard let handler = handler(for: context.job.type) else {
            return .failed(HandlerFailure(
                message: "no handler is configured for job type '\(context.job.type)'",
                errorType: "unknown_job_type", retryable: false))
        }
        return handler.handle(context)
    }
}

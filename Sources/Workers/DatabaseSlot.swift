import Foundation
import Postgres
import QueueStore

/// One thread's connection, reopened with backoff when Postgres goes away. Each pool thread owns
/// one slot, so a slow statement on one (a big complete batch) never delays another (a claim).
final class DatabaseSlot: @unchecked Sendable {  // used by exactly one thread after start()
    private let config: ConnectionConfig
    private let label: String
    private let log: WorkerLogger
    private var current: Connection?
    private var backoff = Backoff()
    private var outage = false
    /// Runs after every (re)connect, e.g. LISTEN on the listener connection.
    var onConnect: ((Connection) throws -> Void)?

    init(config: ConnectionConfig, label: String, log: @escaping WorkerLogger) {
        self.config = config
        self.label = label
        self.log = log
    }

    /// Connects now; used at start so a wrong --db fails the start instead of retrying forever.
    func connect() throws {
        let connection = try Connection.connect(config)
        try connection.execute("SELECT set_config('application_name', \("queuetop worker " + label), false)")
        try onConnect?(connection)
        current = connection
    }

    /// Runs `body` on the live connection. On failure it drops the connection (if the failure
    /// was the connection's, or `meansSchemaMoved`), logs once per outage, sleeps the backoff (cut short by `stop`) and
    /// rethrows, so callers simply try again on their next loop turn.
    func run<T>(stop: () -> Bool, _ body: (Connection) throws -> T) throws -> T {
        do {
            if current == nil { try connect() }
            let value = try body(current!)
            if outage {
                log(.info, "\(label): reconnected to \(config.endpoint)")
                outage = false
            }
            backoff = Backoff()
            return value
        } catch {
            let connectionProblem = (error as? PostgresError)?.isConnectionProblem ?? true
            // A missing table, function or schema may mean `queuetop migrate` moved the install
            // while this pool runs: reconnect, which resolves the schema again. (Logged every
            // time, not as an outage, in case it is a real mistake.)
            let schemaMoved = (error as? PostgresError)?.meansSchemaMoved ?? false
            if connectionProblem || schemaMoved {
                current?.close()
                current = nil
            }
            let delay = backoff.next()
            if !outage || !connectionProblem {
                // The server's CONTEXT can run to kilobytes; one readable line is enough here.
                let reason = JSONSupport.snippet(String(describing: error).replacingOccurrences(of: "\n", with: " "), limit: 300)
                log(.error, "\(label): \(reason) — retrying in \(String(format: "%.1f", delay)) s")
            }
            outage = outage || connectionProblem
            interruptibleSleep(delay, stop: stop)
            throw error
        }
    }

    var connection: Connection? { current }

    func close() {
        current?.close()
        current = nil
    }
}

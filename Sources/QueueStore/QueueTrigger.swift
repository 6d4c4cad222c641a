import Postgres

extension QueueConfigStore {
    /// "Run now" (`run_queue_now`): retries waiting out their backoff become due, an open
    /// circuit breaker goes half-open, listening workers wake. Audited by the SQL. Returns the
    /// pending jobs now due; throws `.notFound` for an unknown queue.
    public func runNow(_ name: String) throws -> Int {
        try connection.run("SELECT \(qt: "run_queue_now")(\(name))").scalar()
    }
}

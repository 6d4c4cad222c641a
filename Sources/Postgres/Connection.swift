import CLibPQ
import Foundation

/// One libpq connection.
///
/// Calls block the calling thread until the server answers, so they belong on threads that may
/// block: the dashboard's database thread, the worker pool's threads, a CLI command. Never call
/// them from the thread that draws the screen. Every call takes an internal lock, so a connection
/// shared between threads is safe, but its statements run one at a time.
///
/// No call waits forever: a link silent for longer than the call's `Patience` (15 s by default,
/// `Liveness`) is closed and the call throws `connectionLost` (docs/RELIABILITY.md, "Liveness").
public final class Connection: @unchecked Sendable {
    private let lock = NSLock()
    private var conn: OpaquePointer?
    public let config: ConnectionConfig
    /// The schema that holds queuetop's objects, resolved from `config.schema` when this
    /// connection opened (a reconnect is a new `Connection`, so it resolves again: a
    /// `queuetop migrate` may have moved the install meanwhile). Every `\(qt: "name")` in a
    /// statement this connection runs becomes `"<schema>".name`.
    public private(set) var schema: String
    /// `schema` quoted, with the dot: what replaces each placeholder.
    private var schemaPrefix: String
    /// Seconds a wait for an answer may stay silent under `.liveness` (`Liveness.timeout`).
    public let livenessTimeout: Double
    /// Set by `withPatience` for the calls inside it.
    private var scopedPatience: Patience?
    /// Set by `setLocalStatementTimeout`, for the rest of the transaction.
    private var transactionPatience: Patience?
    /// When the server was last heard from; an idle LISTEN checks the link after a while.
    private var lastHeard = DispatchTime.now()

    private init(conn: OpaquePointer, config: ConnectionConfig, livenessTimeout: Double) {
        self.conn = conn
        self.config = config
        self.livenessTimeout = livenessTimeout
        let provisional: String
        switch config.schema {
        case .named(let name): provisional = name
        case .auto(let preferred, _, _): provisional = preferred
        }
        schema = provisional
        schemaPrefix = Query.schemaPrefix(provisional)
    }

    deinit { if let conn { PQfinish(conn) } }

    /// Opens a connection. Fails within the connect timeout with a message that names the host
    /// and port (never the password).
    public static func connect(_ config: ConnectionConfig,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Connection {
        try config.schema.validate()
        let liveness = try Liveness.timeout(environment: environment)
        var params = config.connectParameters(environment: environment, livenessTimeout: liveness)
        params.insert(("client_encoding", "UTF8"), at: 0)
        let keywords = params.map { strdup($0.0) }
        let values = params.map { strdup($0.1) }
        defer { keywords.forEach { free($0) }; values.forEach { free($0) } }
        var keywordPointers = keywords.map { UnsafePointer<CChar>($0) } + [nil]
        var valuePointers = values.map { UnsafePointer<CChar>($0) } + [nil]
        guard let conn = PQconnectdbParams(&keywordPointers, &valuePointers, 1) else {
            throw PostgresError(kind: .connection, message: "cannot connect to \(config.endpoint): out of memory")
        }
        // Before anything can raise one: notices go through `Notices`, never raw to stderr.
        Notices.install(on: conn)
        guard PQstatus(conn) == CONNECTION_OK else {
            let reason = String(cString: PQerrorMessage(conn)).trimmingWhitespace()
                .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: "")
            PQfinish(conn)
            throw PostgresError(kind: .connection, message: "cannot connect to \(config.endpoint): \(reason)")
        }
        // Non-blocking, so that no write or read can park the thread in the kernel: every wait
        // is a poll() bounded by the call's patience (Wire).
        guard PQsetnonblocking(conn, 1) == 0 else {
            PQfinish(conn)
            throw PostgresError(kind: .connection, message: "cannot connect to \(config.endpoint): cannot make the connection non-blocking")
        }
        let connection = Connection(conn: conn, config: config, livenessTimeout: liveness)
        // Timestamps are parsed as UTC text; one zone for every session keeps decoding simple.
        try connection.execute("SET TIME ZONE 'UTC'")
        if case .auto(let preferred, let legacy, let marker) = config.schema {
            // The catalog, not to_regclass: to_regclass raises "permission denied for schema"
            // for a role without USAGE on it, and such a role must still connect (and then be
            // refused by the statements it is not allowed to run).
            let found: String = try connection.query("""
                SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                                         WHERE n.nspname = \(preferred)::text AND c.relname = \(marker)::text) THEN \(preferred)::text
                            WHEN EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                                         WHERE n.nspname = \(legacy)::text AND c.relname = \(marker)::text) THEN \(legacy)::text
                            ELSE \(preferred)::text END
                """).scalar()
            connection.schema = found
            connection.schemaPrefix = Query.schemaPrefix(found)
        }
        return connection
    }

    /// True while the link to the server is up.
    public var isConnected: Bool {
        lock.withLock { conn.map { PQstatus($0) == CONNECTION_OK } ?? false }
    }

    /// The value libpq uses for a connection option (`keepalives_idle`, `tcp_user_timeout`…),
    /// after defaults, environment and the user's string; nil when unset or closed.
    func option(_ keyword: String) -> String? {
        lock.withLock {
            guard let conn, let options = PQconninfo(conn) else { return nil }
            defer { PQconninfoFree(options) }
            var p = options
            while let key = p.pointee.keyword {
                if String(cString: key) == keyword { return p.pointee.val.map { String(cString: $0) } }
                p = p.advanced(by: 1)
            }
            return nil
        }
    }

    /// The server process serving this connection (for pg_terminate_backend in tests, logs).
    public var backendPID: Int32 { lock.withLock { conn.map { PQbackendPID($0) } ?? 0 } }

    /// Runs `body` with the libpq connection under the lock; nil when closed (QueryCancel.swift).
    func withConnectionPointer<T>(_ body: (OpaquePointer) -> T?) -> T? {
        lock.withLock { conn.flatMap(body) }
    }

    public func close() {
        lock.withLock {
            if let conn { PQfinish(conn) }
            conn = nil
        }
    }

    /// Runs one statement; interpolated values are sent as bind parameters.
    @discardableResult
    public func query(_ query: Query) throws -> QueryResult {
        try lock.withLock {
            let cStrings: [UnsafeMutablePointer<CChar>?] = query.binds.map { $0.map { strdup($0) } ?? nil }
            defer { cStrings.forEach { free($0) } }
            let pointers = cStrings.map { UnsafePointer<CChar>($0) }
            let sql = query.sql(schemaPrefix: schemaPrefix)
            return try roundTrip { conn in
                pointers.withUnsafeBufferPointer { buffer in
                    PQsendQueryParams(conn, sql, Int32(query.binds.count), nil, buffer.baseAddress, nil, nil, 0)
                }
            }
        }
    }

    /// Runs statements and returns the number of rows they affected.
    @discardableResult
    public func execute(_ statement: Query) throws -> Int {
        try query(statement).affectedRows
    }

    /// Runs a script of several statements with no parameters (migration files). Uses the
    /// simple query protocol, which allows many statements in one string.
    public func executeScript(_ sql: String) throws {
        _ = try lock.withLock {
            try roundTrip { conn in PQsendQuery(conn, sql) }
        }
    }

    /// Runs `body` with every wait inside it bounded by `patience` instead of the liveness
    /// bound: for statements that may legitimately run long with no statement timeout of their
    /// own (`.batch`, `.unbounded`; see `Patience`). The longer of this and a transaction's
    /// statement timeout applies.
    @discardableResult
    public func withPatience<T>(_ patience: Patience, _ body: () throws -> T) rethrows -> T {
        let outer = lock.withLock { defer { scopedPatience = patience }; return scopedPatience }
        defer { lock.withLock { scopedPatience = outer } }
        return try body()
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN", body)
    }

    /// `transaction(_:)` as `BEGIN READ ONLY`: the server refuses any write in it. Scoped to
    /// the one transaction, so safe behind a transaction pooler (a session default would stay
    /// on the pooled server connection for the next client).
    public func readOnlyTransaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN READ ONLY", body)
    }

    /// `readOnlyTransaction(_:)` at REPEATABLE READ: every statement in it sees one snapshot,
    /// so a read that takes two statements (a list of values, then the rows of each) cannot
    /// miss what was committed between them.
    public func snapshotTransaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func transaction<T>(begin: Query, _ body: (Connection) throws -> T) throws -> T {
        try execute(begin)
        // A statement timeout set inside lasts until COMMIT or ROLLBACK, and so does its patience.
        defer { lock.withLock { transactionPatience = nil } }
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            if isConnected { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// `statement_timeout` for the rest of the current transaction only (`set_config(…, true)`,
    /// as `SET LOCAL`); call it inside `transaction(_:)`. The client then waits the timeout
    /// plus the liveness bound for each answer (`Patience.upTo`), so the server, not the
    /// liveness deadline, ends a statement that runs long on purpose.
    public func setLocalStatementTimeout(_ seconds: Double) throws {
        try execute("SELECT set_config('statement_timeout', \(String(Int(seconds * 1000))), true)")
        lock.withLock { transactionPatience = .upTo(seconds: seconds) }
    }

    // MARK: LISTEN / NOTIFY

    /// A notification delivered by the server.
    public struct Notification: Sendable, Equatable {
        public let channel: String
        public let payload: String
        public let senderPID: Int32
    }

    public func listen(_ channel: String) throws {
        try executeScript("LISTEN \(try quotedIdentifier(channel))")
    }

    public func unlisten(_ channel: String) throws {
        try executeScript("UNLISTEN \(try quotedIdentifier(channel))")
    }

    public func notify(_ channel: String, payload: String = "") throws {
        try execute("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Waits up to `timeout` seconds for notifications and returns those that arrived (possibly
    /// none). Throws `connectionLost` when the server goes away while waiting.
    ///
    /// An idle link says nothing whether it is up or frozen, so after `Liveness.idleCheck` of
    /// silence this sends a cheap round trip (bounded like any statement) before waiting.
    public func waitForNotifications(timeout: Double) throws -> [Notification] {
        let silentFor = lock.withLock { Double(DispatchTime.now().uptimeNanoseconds - lastHeard.uptimeNanoseconds) / 1e9 }
        if silentFor >= Liveness.idleCheck(livenessTimeout) { try execute("SELECT 1") }
        let conn: OpaquePointer = try lock.withLock { try liveConnection() }
        var pending = try lock.withLock { try drainNotifications(conn) }
        if !pending.isEmpty { return pending }
        var fds = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
        let ready = poll(&fds, 1, Int32(max(0, timeout * 1000)))
        if ready < 0 && errno != EINTR {
            throw PostgresError(kind: .connectionLost, message: "waiting for notifications failed: \(String(cString: strerror(errno)))")
        }
        pending = try lock.withLock { try drainNotifications(conn) }
        return pending
    }

    private func drainNotifications(_ conn: OpaquePointer) throws -> [Notification] {
        guard PQconsumeInput(conn) == 1 else {
            throw PostgresError(kind: .connectionLost, message: "lost the connection to \(config.endpoint): "
                                + String(cString: PQerrorMessage(conn)).trimmingWhitespace())
        }
        var out: [Notification] = []
        while let n = PQnotifies(conn) {
            out.append(Notification(channel: String(cString: n.pointee.relname),
                                    payload: String(cString: n.pointee.extra),
                                    senderPID: n.pointee.be_pid))
            PQfreemem(n)
        }
        if !out.isEmpty { lastHeard = .now() }
        return out
    }

    // MARK: internals

    private func liveConnection() throws -> OpaquePointer {
        guard let conn else {
            throw PostgresError(kind: .connectionLost, message: "the connection to \(config.endpoint) is closed")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(kind: .connectionLost, message: "lost the connection to \(config.endpoint)")
        }
        return conn
    }

    /// Sends with `send` and waits for the answer within the patience in force (the lock is
    /// held). A link silent past it is closed here, never reused mid-protocol: the next call
    /// fails as closed and `ManagedConnection` reconnects. Several results (a script) answer as
    /// PQexec did: the first error, else the last result.
    private func roundTrip(_ send: (OpaquePointer) -> Int32) throws -> QueryResult {
        let conn = try liveConnection()
        let patience = [scopedPatience, transactionPatience].compactMap { $0 }.max { a, b in
            (a.limit(liveness: livenessTimeout) ?? .infinity) < (b.limit(liveness: livenessTimeout) ?? .infinity)
        } ?? .liveness
        let results: [OpaquePointer]
        do throws(Wire.Failure) {
            results = try Wire.roundTrip(conn, silenceLimit: patience.limit(liveness: livenessTimeout)) { send(conn) }
        } catch .silent(let seconds) {
            PQfinish(conn)
            self.conn = nil
            throw PostgresError(kind: .connectionLost,
                                message: "lost the connection to \(config.endpoint): no answer from the server for \(Self.seconds(seconds)) s",
                                hint: "a frozen network or proxy; \(Liveness.environmentVariable) sets this bound (default \(Self.seconds(Liveness.defaultTimeout)) s)")
        } catch .broken(let reason) {
            throw lostOrFailed(conn, fallback: reason)
        }
        lastHeard = .now()
        defer { results.forEach { PQclear($0) } }
        let failed = results.first { ![PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY].contains(PQresultStatus($0)) }
        guard let answer = failed ?? results.last else {
            throw lostOrFailed(conn, fallback: "no result from the server")
        }
        if failed != nil {
            if PQstatus(conn) != CONNECTION_OK { throw lostOrFailed(conn, fallback: "the server closed the connection") }
            throw PostgresError.fromResult(answer)
        }
        return decodeResult(answer)
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    private func lostOrFailed(_ conn: OpaquePointer, fallback: String) -> PostgresError {
        var reason = String(cString: PQerrorMessage(conn)).trimmingWhitespace().replacingOccurrences(of: "\n", with: " ")
        if reason.isEmpty { reason = fallback }
        return PostgresError(kind: .connectionLost, message: "lost the connection to \(config.endpoint): \(reason)")
    }

    private func decodeResult(_ result: OpaquePointer) -> QueryResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String] = []
        var oids: [UInt32] = []
        for c in 0..<columnCount {
            columns.append(String(cString: PQfname(result, Int32(c))))
            oids.append(PQftype(result, Int32(c)))
        }
        var values: [[String?]] = []
        values.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            var row: [String?] = []
            row.reserveCapacity(columnCount)
            for c in 0..<columnCount {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                }
            }
            values.append(row)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return QueryResult(columns: columns, typeOIDs: oids, values: values, affectedRows: affected)
    }

    private func quotedIdentifier(_ name: String) throws -> String {
        try lock.withLock {
            let conn = try liveConnection()
            guard let escaped = PQescapeIdentifier(conn, name, name.utf8.count) else {
                throw PostgresError(kind: .query, message: "invalid identifier \(name.debugDescription)")
            }
            defer { PQfreemem(escaped) }
            return String(cString: escaped)
        }
    }
}

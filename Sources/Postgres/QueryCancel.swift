import CLibPQ
import Foundation

/// Asks the server to cancel whatever statement a connection is running, from another thread
/// (PQcancel): the way to stop a long statement without waiting for it, as `pg_cancel_backend`
/// would, but needing no privilege, since the request carries the connection's own secret key.
/// The statement then fails with SQLSTATE 57014 on the connection that ran it.
///
/// Made before the statement starts (`Connection.cancelRequest()`): the connection's lock is held
/// while a statement runs, so nothing about the connection can be read then.
public final class QueryCancelRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: OpaquePointer?
    /// The server process the request goes to (`pg_backend_pid()` of the connection).
    public let backendPID: Int32

    init?(conn: OpaquePointer) {
        guard let handle = PQgetCancel(conn) else { return nil }
        self.handle = handle
        backendPID = PQbackendPID(conn)
    }

    deinit { if let handle { PQfreeCancel(handle) } }

    /// Sends the cancel request; nil on success, or libpq's reason. A request that arrives when
    /// nothing runs is ignored by the server. PQcancel is safe to call from any thread.
    @discardableResult
    public func send() -> String? {
        lock.withLock {
            guard let handle else { return "the cancel request was already released" }
            var buffer = [CChar](repeating: 0, count: 256)
            if PQcancel(handle, &buffer, Int32(buffer.count)) == 1 { return nil }
            return String(cString: buffer)
        }
    }
}

extension Connection {
    /// A request that cancels this connection's running statement from another thread; nil when
    /// the connection is closed.
    public func cancelRequest() -> QueryCancelRequest? {
        withConnectionPointer { QueryCancelRequest(conn: $0) }
    }
}

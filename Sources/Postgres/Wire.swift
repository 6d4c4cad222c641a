import CLibPQ
import Foundation

/// One request and its whole answer on a libpq connection in non-blocking mode, with a bound on
/// how long the link may stay silent (`Patience`). The one code path every statement takes
/// (`Connection.query`, `executeScript`, transactions, LISTEN), instead of PQexec, which blocks
/// in the kernel for as long as a frozen proxy likes.
///
/// The bound is on silence, not on the whole call: every time bytes move (answer rows arriving,
/// a large statement being written) the clock starts again, so a big result on a slow link is
/// not cut off while it is still flowing.
enum Wire {
    enum Failure: Error {
        /// Nothing moved for `seconds`: the link is frozen or the server is gone.
        case silent(seconds: Double)
        /// libpq gave up (socket closed, protocol error); the text is libpq's message.
        case broken(String)
    }

    /// Sends with `send` (a PQsend… call), then returns every result of the request, in order.
    /// The caller owns (PQclear) the results. Throws before reading anything when the send fails.
    static func roundTrip(_ conn: OpaquePointer, silenceLimit: Double?, send: () -> Int32) throws(Failure) -> [OpaquePointer] {
        guard send() == 1 else { throw .broken(errorMessage(conn)) }
        var results: [OpaquePointer] = []
        do throws(Failure) {
            while true {
                try awaitIdle(conn, silenceLimit: silenceLimit)
                guard let result = PQgetResult(conn) else { break }
                results.append(result)
                // queuetop never runs COPY; a COPY state would never end with PQgetResult alone.
                let status = PQresultStatus(result)
                if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                    throw .broken("unexpected COPY from the server")
                }
            }
        } catch {
            results.forEach { PQclear($0) }
            throw error
        }
        return results
    }

    /// Flushes what is queued and reads until libpq has a whole result (PQisBusy false).
    private static func awaitIdle(_ conn: OpaquePointer, silenceLimit: Double?) throws(Failure) {
        var lastMoved = DispatchTime.now().uptimeNanoseconds
        while true {
            let flush = PQflush(conn)
            if flush < 0 { throw .broken(errorMessage(conn)) }
            if flush == 0 && PQisBusy(conn) == 0 { return }
            var waitMs: Int32 = -1
            if let silenceLimit {
                let silent = Double(DispatchTime.now().uptimeNanoseconds - lastMoved) / 1e9
                if silent >= silenceLimit { throw .silent(seconds: silenceLimit) }
                waitMs = Int32(min((silenceLimit - silent) * 1000 + 1, Double(Int32.max)))
            }
            var fds = pollfd(fd: PQsocket(conn), events: Int16(POLLIN) | (flush == 1 ? Int16(POLLOUT) : 0), revents: 0)
            let ready = poll(&fds, 1, waitMs)
            if ready < 0 {
                if errno == EINTR { continue }
                throw .broken("waiting for the server failed: \(String(cString: strerror(errno)))")
            }
            guard ready > 0 else { continue }  // the loop checks the bound
            lastMoved = DispatchTime.now().uptimeNanoseconds
            if fds.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 {
                guard PQconsumeInput(conn) == 1 else { throw .broken(errorMessage(conn)) }
            }
        }
    }

    static func errorMessage(_ conn: OpaquePointer) -> String {
        String(cString: PQerrorMessage(conn)).trimmingWhitespace().replacingOccurrences(of: "\n", with: " ")
    }
}

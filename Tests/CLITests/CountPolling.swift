import Foundation
import Postgres

/// How a suite waits for the database to reach a state: a count query, polled every 0.1 s.
/// Conforming gives the suite `Self.count` and `Self.poll`.
protocol CountPolling {}

extension CountPolling {
    static func count(_ conn: Connection, _ sql: Query) throws -> Int { try conn.query(sql).scalar() }

    /// Polls `sql` (a count) until `condition` holds or `timeout` passes; returns the last value.
    @discardableResult
    static func poll(_ conn: Connection, _ sql: Query, timeout: Double, until condition: (Int) -> Bool) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        var value = try count(conn, sql)
        while !condition(value), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            value = try count(conn, sql)
        }
        return value
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The audit screen says "newest first". Walking the demo it listed "now", then 27m, 42m, 46m
/// ago, then "now" again and a job.expire of 11 hours ago above one of 3 hours ago: the seed
/// writes its back-dated history after its first rows, and the list was ordered by id.
@Suite struct AuditOrderTests {
    @Test func theListIsNewestFirstByTimeWhateverOrderRowsWereWritten() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("""
                INSERT INTO audit_log (at, action, filter, affected) VALUES
                  (now(), 'schedule.add', '{}', 1),
                  (now() - interval '44 minutes', 'queue.scale', '{}', 1),
                  (now() - interval '11 hours', 'job.expire', '{}', 9),
                  (now() - interval '3 hours', 'job.expire', '{}', 15),
                  (now() - interval '25 minutes', 'queue.scale', '{}', 1)
                """)
            let listed = try AuditStore(connection: conn).list()
            #expect(listed.map(\.at) == listed.map(\.at).sorted(by: >), "\(listed.map { ($0.id, $0.at) })")
            #expect(listed.map(\.affected) == [1, 1, 1, 15, 9])
            #expect(listed.first?.action == "schedule.add")
        }
    }
}

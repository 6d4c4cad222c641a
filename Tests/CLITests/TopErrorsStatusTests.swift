import Foundation
import Postgres
import TestSupport
import Testing

/// `queuetop status` lists the top errors by pattern: one line per group, with the type, the
/// normalised pattern, the count and the newest message; hostile bytes reach the terminal as text.
@Suite struct TopErrorsStatusTests {
    @Test func statusPrintsOneLinePerPatternWithItsCountAndSample() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                SELECT enqueue_job('mail', 'send', jsonb_build_object('i', i)) FROM generate_series(1, 4) i;
                SELECT count(*) FROM claim_jobs('w', ARRAY['mail'], 4);
                SELECT fail_jobs('w', array_agg(id ORDER BY (payload->>'i')::int),
                                 ARRAY['timeout after 31 ms', 'timeout after 7 ms', 'timeout after 9 ms',
                                       E'evil\\x1b[2J\\x1b]0;pwn\\x07 reply'],
                                 array_fill('net'::text, ARRAY[4]))
                  FROM job_queue WHERE locked_by = 'w';
                """)
            let status = try QueuetopBinary.run(["status", "--db", db.conninfo])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(!status.stdout.contains("\u{1b}") && !status.stdout.contains("\u{7}"))
            #expect(status.stdout.contains("TOP ERRORS (24 h, by pattern)"))
            let lines = status.stdout.split(separator: "\n")
            let timeout = try #require(lines.first { $0.contains("timeout after <n> ms") }, "\(status.stdout)")
            let cells = timeout.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            #expect(cells.prefix(2) == ["mail", "net"], "\(timeout)")
            #expect(cells.contains("3"), "three timeouts, one group: \(timeout)")
            #expect(lines.filter { $0.contains("timeout after") }.count == 1)
            #expect(lines.contains { $0.contains("evil") && $0.contains("reply") }, "\(status.stdout)")
        }
    }

    /// A queue with nothing pending has no oldest job: OLDEST reads "-", as on the dashboard's
    /// overview, not "0s" (which reads as a job that just arrived).
    @Test func oldestOfAnEmptyQueueIsADash() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                SELECT enqueue_job('drained', 'send', '{}');
                SELECT count(*) FROM claim_jobs('w', ARRAY['drained'], 1);
                SELECT complete_jobs('w', array_agg(id), array_agg(5)) FROM job_queue WHERE locked_by = 'w';
                SELECT enqueue_job('waiting', 'send', '{}');
                """)
            let status = try QueuetopBinary.run(["status", "--db", db.conninfo])
            #expect(status.status == 0, "\(status.stderr)")
            let lines = status.stdout.split(separator: "\n")
            let header = try #require(lines.first { $0.hasPrefix("QUEUE") }, "\(status.stdout)")
            let oldestColumn = try #require(header.split(separator: " ").firstIndex(of: "OLDEST"))
            func oldest(_ queue: String) throws -> String {
                let row = try #require(lines.first { $0.hasPrefix(queue + " ") }, "\(status.stdout)")
                return String(row.split(separator: " ")[oldestColumn])
            }
            #expect(try oldest("drained") == "-", "\(status.stdout)")
            #expect(try oldest("waiting") != "-", "a pending job has an age: \(status.stdout)")
        }
    }
}

import Foundation
import Postgres
import TestSupport
import Testing

/// Bad and hostile input through the real binary: every case ends with one clear message, a
/// non-zero exit, and the database exactly as it was.
@Suite struct HostileInputTests {
    static let injection = "'); DROP TABLE job_queue;--"

    /// Everything a bad command could have touched, as one comparable value.
    func state(_ conn: Connection) throws -> String {
        try conn.query("""
            SELECT concat_ws(' | ',
              (SELECT string_agg(status || ':' || n, ',' ORDER BY status) FROM (SELECT status, count(*) n FROM job_queue GROUP BY 1) s),
              (SELECT string_agg(name || ':' || paused || ':' || coalesce(concurrency_limit, 0), ',' ORDER BY name) FROM queues),
              (SELECT count(*) FROM audit_log),
              (SELECT count(*) FROM pg_tables WHERE tablename = 'job_queue'))
            """).scalar(String.self)
    }

    /// A queue with one pending job and one dead-letter job, so bulk actions have something to hit.
    func seed(_ conn: Connection) throws {
        try conn.query("SELECT enqueue_job('mail', 'send')")
        try conn.query("SELECT fail_job(enqueue_job('mail', 'send'), 'smtp down', 'smtp_error', NULL, false)")
    }

    /// Runs `arguments` against `db` and checks: non-zero exit, `message` in stderr, one or two
    /// lines, no crash, nothing changed.
    func refuses(_ db: TestDatabase, _ conn: Connection, _ arguments: [String], saying message: String,
                 stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try state(conn)
        let r = try QueuetopBinary.run(arguments + ["--db", db.conninfo], stdin: stdin)
        #expect(r.status != 0, "\(arguments) exited 0: \(r.stdout)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
        #expect(try state(conn) == before, "\(arguments) changed the database", sourceLocation: sourceLocation)
    }

    @Test func payloadsThatAreNotJSONOrTooLargeAreRefusedWhole() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try seed(conn)
            try refuses(db, conn, ["enqueue", "mail", "--type", "send", "--payload", "not json"], saying: "not valid JSON")
            try refuses(db, conn, ["enqueue", "mail", "--type", "send", "--payload", "{\"a\": 1"], saying: "not valid JSON")
            // The cap is 1 MiB of JSON text per payload (docs/QUEUE_ENGINE.md). A batch with one
            // oversized payload enqueues nothing, not the jobs before it.
            let big = "{\"blob\": \"" + String(repeating: "x", count: 1_048_600) + "\"}"
            try refuses(db, conn, ["enqueue", "mail", "--type", "send", "--from", "-"], saying: "the limit is 1 MiB",
                        stdin: "{\"ok\": 1}\n" + big + "\n")
            try refuses(db, conn, ["enqueue", "mail", "--type", "send", "--from", "-"], saying: "not valid JSON",
                        stdin: "{\"ok\": 1}\nnot json\n")
        }
    }

    @Test func anInjectionStringIsOnlyEverALiteral() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try seed(conn)
            let s = Self.injection
            try refuses(db, conn, ["queue", "pause", s], saying: "unknown queue")
            try refuses(db, conn, ["queue", "scale", s, "3"], saying: "unknown queue")
            try refuses(db, conn, ["dlq", "list", "--queue", s], saying: "unknown queue")
            try refuses(db, conn, ["dlq", "requeue", "--all", "--queue", s, "--yes"], saying: "unknown queue")
            try refuses(db, conn, ["dlq", "requeue", s], saying: "is not a job id")
            try refuses(db, conn, ["leads", "cancel", s], saying: "is not a UUID")
            // As a filter value it matches nothing, and says so.
            let filter = try QueuetopBinary.run(["dlq", "requeue", "--error-type", s, "--yes", "--db", db.conninfo])
            #expect(filter.status == 0 && filter.stdout.contains("requeued 0 job(s)"))
            // As a queue name to enqueue into it is a name like any other, stored as typed.
            let enqueued = try QueuetopBinary.run(["enqueue", s, "--type", s, "--payload", "{\"q\": \"\(s)\"}", "--db", db.conninfo])
            #expect(enqueued.status == 0, "\(enqueued.stderr)")
            let stored: String = try conn.query("SELECT queue || job_type || (payload->>'q') FROM job_queue WHERE queue = \(s)").scalar()
            #expect(stored == s + s + s)
            #expect(try conn.query("SELECT count(*)::int FROM job_queue").scalar(Int.self) == 3)
        }
    }

    @Test func invalidIdsSizesAndUnknownQueuesAreRefused() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try seed(conn)
            try refuses(db, conn, ["dlq", "requeue", "not-a-uuid"], saying: "not-a-uuid is not a job id")
            try refuses(db, conn, ["dlq", "delete", "01234567-89ab-cdef-0123-456789abcdeg", "--yes"], saying: "is not a job id")
            try refuses(db, conn, ["leads", "cancel", "123"], saying: "is not a UUID")
            for size in ["0", "-5", "100001", "99999999999"] {
                try refuses(db, conn, ["dlq", "requeue", "--all", "--batch-size=\(size)", "--yes"], saying: "--batch-size")
                try refuses(db, conn, ["dlq", "delete", "--all", "--batch-size=\(size)", "--yes"], saying: "--batch-size")
                try refuses(db, conn, ["enqueue", "mail", "--from", "-", "--batch-size=\(size)"], saying: "--batch-size",
                            stdin: "{}\n")
            }
            try refuses(db, conn, ["dlq", "list", "--limit=-1"], saying: "--limit must be between 1 and 10000")
            try refuses(db, conn, ["queue", "scale", "mail", "-- -4"], saying: "limit")
            try refuses(db, conn, ["queue", "scale", "mail", "99999999999"], saying: "must be between 1 and 100000")
            for args in [["queue", "pause", "nosuch"], ["queue", "show", "nosuch"], ["queue", "resume", "nosuch"],
                         ["dlq", "list", "--queue", "nosuch"], ["dlq", "groups", "--queue", "nosuch"],
                         ["dlq", "requeue", "--all", "--queue", "nosuch", "--yes"],
                         ["dlq", "delete", "--error-type", "smtp_error", "--queue", "nosuch", "--yes"]] {
                try refuses(db, conn, args, saying: "unknown queue \"nosuch\"")
            }
        }
    }
}

import Foundation
import Postgres
import TestSupport
import Testing

/// `queuetop status` says who paused a queue and when (text and JSON), the name escaped; and
/// `queuetop timeline` words a cancel as the dashboard's Timeline does, not as its filter JSON
/// (walk3 items 1 and 5).
@Suite struct OnCallWalk3CLITests {
    /// Creates a login operator role of that (possibly hostile) name and pauses `queue` as it.
    /// Roles are the cluster's: drop it with `dropRole` when the test ends.
    static func pause(_ queue: String, asOperatorNamed role: String, db: TestDatabase, admin: Connection) throws {
        try admin.executeScript("CREATE ROLE \"\(role)\" LOGIN IN ROLE queuetop_operator")
        do {
            let op = try Connection.connect(db.sqlConfig.overriding("user", role))
            defer { op.close() }
            try op.query("SELECT pause_queue(\(queue))")
        } catch {
            dropRole(role, admin: admin)
            throw error
        }
    }

    static func dropRole(_ role: String, admin: Connection) {
        _ = try? admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \(role)")
        _ = try? admin.executeScript("DROP ROLE IF EXISTS \"\(role)\"")
    }

    @Test func statusSaysWhoPausedAQueueAndEscapesTheName() throws {
        try TestDatabase.with { db in
            let admin = try db.connect()
            defer { admin.close() }
            try admin.executeScript("SELECT enqueue_job('lead-migration', 'move'); SELECT enqueue_job('emails', 'send')")
            // A login role may be named anything, an escape sequence and a bidi override included.
            let role = "qt_ana_\(UUID().uuidString.prefix(8).lowercased())\u{1b}[2J\u{202e}"
            try Self.pause("lead-migration", asOperatorNamed: role, db: db, admin: admin)
            defer { Self.dropRole(role, admin: admin) }
            let text = try QueuetopBinary.run(["status", "--db", db.conninfo])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(!text.stdout.contains("\u{1b}") && !text.stdout.contains("\u{202e}"), "\(text.stdout)")
            let escaped = role.replacingOccurrences(of: "\u{1b}", with: #"\x1b"#).replacingOccurrences(of: "\u{202e}", with: #"\u202e"#)
            let lines = text.stdout.split(separator: "\n").map(String.init)
            let header = try #require(lines.firstIndex(of: "PAUSED"), "\(text.stdout)")
            let line = lines[header + 1]
            #expect(line.hasPrefix("  lead-migration: paused by \(escaped) ") && line.contains("s ago (20") && line.hasSuffix("Z)"), "\(line)")
            // Its DRAIN is "-" (the walk's demo said "growing" for the paused queue, an alarm
            // about the pause itself); the queue that runs keeps its forecast.
            let row = try #require(lines.first { $0.hasPrefix("lead-migration ") }, "\(text.stdout)")
            #expect(row.split(separator: " ").last == "-", "\(row)")
            let running = try #require(lines.first { $0.hasPrefix("emails ") }, "\(text.stdout)")
            #expect(running.split(separator: " ").last != "-", "\(running)")
            // The running queue is not listed.
            #expect(!lines.contains { $0.hasPrefix("  emails:") }, "\(text.stdout)")

            let json = try QueuetopBinary.run(["status", "--json", "--db", db.conninfo])
            #expect(json.status == 0 && !json.stdout.contains("\u{1b}"), "\(json.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            let queues = object?["queues"] as? [[String: Any]] ?? []
            let lead = try #require(queues.first { $0["name"] as? String == "lead-migration" })
            #expect(lead["paused_by"] as? String == role)
            #expect((lead["paused_at"] as? String)?.hasSuffix("Z") == true, "\(lead["paused_at"] ?? "nil")")
            let emails = try #require(queues.first { $0["name"] as? String == "emails" })
            #expect(emails["paused_by"] is NSNull && emails["paused_at"] is NSNull, "\(emails)")
        }
    }

    /// End to end in tmux at 80x24: the queue screen of a queue a hostile-named role paused says
    /// who and when, the name's escape shown as text, the screen not cleared by it.
    @Test func theDashboardsQueueScreenSaysWhoPausedIt() throws {
        try TestDatabase.with { db in
            let admin = try db.connect()
            defer { admin.close() }
            try admin.executeScript("SELECT enqueue_job('lead-migration', 'move'); SELECT enqueue_job('emails', 'send')")
            let tag = UUID().uuidString.prefix(6).lowercased()
            let role = "qt_bo_\(tag)\u{1b}[2J"
            try Self.pause("lead-migration", asOperatorNamed: role, db: db, admin: admin)
            defer { Self.dropRole(role, admin: admin) }

            let tmux = try TmuxSession(width: 80, height: 24, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            #expect(tmux.waitFor(timeout: 20) { $0.contains("lead-migration") } != nil, "\(tmux.screen())")
            try tmux.type(":queue lead-migration", enter: true)
            let line = "paused by qt_bo_\(tag)\\x1b[2J "
            let screen = tmux.waitFor(timeout: 15) { $0.contains(line) && $0.contains("s ago") }
            #expect(screen != nil, "\(tmux.screen())")
            // Nothing cleared the screen: the tabs and the footer are still there.
            #expect(screen.map { $0.contains("1 Over") && $0.contains("p resume") } == true, "\(screen ?? "")")
        }
    }

    @Test func timelinePrintsCancelsInWords() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let id = try conn.query("SELECT enqueue_job('emails', 'send')::text").scalar(String.self)
            try conn.query("SELECT cancel_job(\(id)::uuid)")
            // A bulk cancel's row as `queuetop jobs cancel` writes it, stopped early.
            try conn.query(#"SELECT record_audit('jobs.cancel', '{"where": "queue:emails state:pending", "outcome": "stopped"}', 1200)"#)
            let who = try conn.query("SELECT session_user::text").scalar(String.self)
            let out = try QueuetopBinary.run(["timeline", "--since", "10m", "--db", db.conninfo])
            #expect(out.status == 0, "\(out.stderr)")
            #expect(!out.stdout.contains(#"{"ids""#) && !out.stdout.contains(#"{"where""#), "raw JSON: \(out.stdout)")
            let lines = out.stdout.split(separator: "\n").map(String.init)
            let single = try #require(lines.first { $0.contains("\tjob.cancel\t") }, "\(out.stdout)")
            let fields = single.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            #expect(fields.count == 6, "\(single)")
            #expect(fields[3] == "cancelled job \(id.suffix(8)) (pending) - by \(who) - reason: operator cancel", "\(single)")
            let bulk = try #require(lines.first { $0.contains("\tjobs.cancel\t") }, "\(out.stdout)")
            #expect(bulk.contains("\tcancelled 1,200 jobs - by \(who) - matching queue:emails state:pending - stopped early - reason: operator cancel\t"),
                    "\(bulk)")
        }
    }
}

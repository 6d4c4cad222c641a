import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The Jobs screen end to end, in tmux against the real binary: search a payload, see the one
/// job, open it; a bad filter points at the term; a bulk cancel from the screen is confirmed
/// with its exact count and changes exactly those jobs.
@Suite struct JobsDashboardTests {
    @Test func findAnasEmailByPayloadAndOpenIt() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobFixtures.mixed(conn)
            let ana: UUID = try conn.query("SELECT id FROM job_queue WHERE payload->>'to' = 'ana@example.com'").scalar()
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys("9")
            #expect(tmux.waitFor(timeout: 15) { $0.contains("Jobs pending") && $0.contains("page 1") } != nil, "\(tmux.screen())")
            // All states, then the payload search.
            try tmux.keys(">", ">", ">", ">", ">", ">", ">")
            #expect(tmux.waitFor(timeout: 10) { $0.contains("[all]") } != nil, "\(tmux.screen())")
            try tmux.keys("/")
            try tmux.type("qeue:x")
            try tmux.keys("Enter")
            #expect(tmux.waitFor(timeout: 10) { $0.contains("unknown field 'qeue' at 1: did you mean queue?") } != nil,
                    "the bad term is named: \(tmux.screen())")
            for _ in 0..<6 { try tmux.keys("BSpace") }
            try tmux.type("payload.to=ana@example.com")
            try tmux.keys("Enter")
            let short = ShortJobID.of(ana)
            let found = tmux.waitFor(timeout: 15) { $0.contains(short) && $0.contains("1 job") && $0.contains("Jobs ·") }
            #expect(found != nil, "one job found: \(tmux.screen())")
            try tmux.keys("Enter")
            let opened = tmux.waitFor(timeout: 15) { $0.contains(ana.uuidString.lowercased()) && $0.contains("ana@example.com") }
            #expect(opened != nil, "the job view shows the whole id and the payload: \(tmux.screen())")
            try tmux.keys("Q")
        }
    }

    @Test func cancelEverythingMatchingFromTheScreen() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobFixtures.mixed(conn)
            let before = try conn.query("""
                SELECT count(*)::int FROM job_queue WHERE queue = 'emails' AND status = 'pending' AND run_at > now() AND attempt_count = 0
                """).scalar(Int.self)
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys(":")
            try tmux.type("jobs queue:emails", enter: true)
            #expect(tmux.waitFor(timeout: 15) { $0.contains("Jobs pending") } != nil, "\(tmux.screen())")
            try tmux.keys(">")
            #expect(tmux.waitFor(timeout: 15) { $0.contains("Jobs scheduled") && $0.contains("\(before) jobs") } != nil, "\(tmux.screen())")
            try tmux.keys("c")
            let prompt = "Cancel \(before) jobs matching queue:emails state:scheduled?"
            let shown = tmux.waitFor(timeout: 15) { $0.contains(prompt) }
            #expect(shown != nil, "the exact count is asked: \(tmux.screen())")
            guard shown != nil else { try tmux.keys("Escape"); try tmux.keys("Q"); return }
            try tmux.keys("y")
            #expect(tmux.waitFor(timeout: 15) { $0.contains("cancelled \(before) jobs matching queue:emails state:scheduled") } != nil,
                    "\(tmux.screen())")
            let left = try conn.query("""
                SELECT count(*)::int FROM job_queue WHERE queue = 'emails' AND status = 'pending' AND run_at > now() AND attempt_count = 0
                """).scalar(Int.self)
            #expect(left == 0)
            let audit = try conn.query("SELECT affected::int FROM audit_log WHERE action = 'jobs.cancel'").map { try $0.decode(0, as: Int.self) }
            #expect(audit == [before])
            try tmux.keys("Q")
        }
    }
}

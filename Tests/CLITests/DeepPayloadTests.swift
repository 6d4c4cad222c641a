import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// A 4 KB payload of 2,000 nested arrays, valid JSON and valid jsonb: it is enqueued, shown by
/// `job show` in bounded time and size, printed by `--json` as itself, and opened with `:job`
/// in the real dashboard without taking its keys away.
@Suite(.serialized) struct DeepPayloadTests {
    static let deep = String(repeating: "[", count: 2_000) + String(repeating: "]", count: 2_000)

    /// A job whose payload is the deep array, written with SQL (so each test below fails on
    /// its own step, not on enqueue's).
    func deepJob(_ db: TestDatabase) throws -> UUID {
        let conn = try db.connect()
        defer { conn.close() }
        let id = try JobStore(connection: conn).enqueue(NewJob(queue: "deep", type: "nest", payload: JSONText("{}"))).id
        _ = try conn.execute("UPDATE \(qt: "job_queue") SET payload = \(Self.deep)::jsonb WHERE id = \(id)")
        return id
    }

    /// Foundation's JSONSerialization refused this as "not valid JSON"; the server takes it.
    @Test func enqueueAcceptsTwoThousandNestedArrays() throws {
        try TestDatabase.with { db in
            let r = try QueuetopBinary.run(["enqueue", "deep", "--type", "nest", "--payload", Self.deep, "--db", db.conninfo])
            #expect(r.status == 0, "enqueue: \(r.stderr)")
            let id = try #require(UUID(uuidString: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(r.stdout)\(r.stderr)")
            let conn = try db.connect()
            defer { conn.close() }
            let stored = try conn.query("SELECT payload = \(Self.deep)::jsonb AS same FROM \(qt: "job_queue") WHERE id = \(id)")
                .scalar(Bool.self)
            #expect(stored, "the payload is stored as sent")
            // Not JSON at all is still refused before anything is sent.
            let bad = try QueuetopBinary.run(["enqueue", "deep", "--type", "nest", "--payload", "[[1,", "--db", db.conninfo])
            #expect(bad.status == 1 && bad.stderr.contains("not valid JSON"), "\(bad.stderr)")
        }
    }

    @Test func jobShowIsSmallFastAndExplicitAndJSONIsTheRealValue() throws {
        try TestDatabase.with { db in
            let id = try deepJob(db)
            let started = Date()
            let text = try QueuetopBinary.run(["job", "show", id.uuidString, "--db", db.conninfo], timeout: 30)
            let seconds = Date().timeIntervalSince(started)
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.utf8.count < 1_000_000, "job show printed \(text.stdout.utf8.count) bytes")
            #expect(seconds < 2, "job show took \(seconds) s")
            #expect(text.stdout.contains("(elided: 3.9 KB, 1936 levels deep)"), "the cut says what was left out")

            let json = try QueuetopBinary.run(["job", "show", id.uuidString, "--json", "--db", db.conninfo], timeout: 30)
            #expect(json.status == 0, "\(json.stderr)")
            #expect(!json.stdout.contains(#""payload":null"#), "the payload is not null")
            // The real value, round-tripped through the server: jsonb equal to what was enqueued.
            let conn = try db.connect()
            defer { conn.close() }
            let same = try conn.query("""
                SELECT (\(json.stdout)::jsonb -> 'payload') = \(Self.deep)::jsonb
                   AND (\(json.stdout)::jsonb ->> 'id') = \(id.uuidString.lowercased()) AS same
                """).scalar(Bool.self)
            #expect(same, "--json prints the stored payload: \(json.stdout.prefix(300))")
        }
    }

    /// In the dashboard: `:job ID` draws the job (16 levels, then the elided rest) and Esc is
    /// answered within a second. Before, the view spun a core for more than 30 s and ignored keys.
    @Test func theDashboardOpensItAndStillAnswersEsc() throws {
        try TestDatabase.with { db in
            let id = try deepJob(db)
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            #expect(tmux.waitFor(timeout: 30) { $0.contains("deep") } != nil, "the overview is up")
            try tmux.type(":job \(id.uuidString.lowercased())", enter: true)
            let shown = tmux.waitFor(timeout: 30) { $0.contains("Job ›") && $0.contains("pending") }
            #expect(shown != nil, "the job is shown: \(tmux.screen())")
            // Scrolled to the end, the cut deep inside is on screen.
            try tmux.keys("G")
            let cut = tmux.waitFor(timeout: 15) { $0.contains("(elided: 4.0 KB, 1984 levels deep)") }
            #expect(cut != nil, "the elided subtree is marked: \(tmux.screen())")
            let pressed = Date()
            try tmux.keys("Escape")
            let back = tmux.waitFor(timeout: 30) { !$0.contains("Job ›") && $0.contains("deep") }
            let latency = Date().timeIntervalSince(pressed)
            #expect(back != nil, "Esc closed the job: \(tmux.screen())")
            #expect(latency < 1, "Esc answered in \(latency) s")
            print("DeepPayloadTests: Esc answered in \(Int(latency * 1000)) ms")
            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }
}

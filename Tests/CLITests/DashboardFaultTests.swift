import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Faults injected into the real dashboard in a real terminal (tmux): a dropped SSH session,
/// small and plain terminals, PostgreSQL going away, a slow link. docs/RELIABILITY.md records
/// the runs. Serialized: each runs a dashboard process, and the machine is small.
@Suite(.serialized) struct DashboardFaultTests {
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

    /// SSH session dropped: SIGHUP while the embedded workers are busy. The terminal comes back,
    /// the process exits 0 within the grace, nothing is left processing, and a headless worker
    /// then finishes every job: nothing is lost.
    @Test func sighupWithBusyEmbeddedWorkersRestoresTheTerminalAndLosesNoJob() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let total = 300
            // ~300 ms a job on 4 slots: about 20 s of work, so the pool is mid-run at the hang-up.
            try conn.execute("""
                SELECT enqueue_job('hup', 'simulate', '{"latency_ms": {"p50": 300, "p99": 300}}'::jsonb)
                  FROM generate_series(1, \(total))
                """)
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            let grace = 5.0
            try tmux.launchDashboard("dash --concurrency 4 --grace \(Int(grace))")
            let busy = try Self.poll(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'", timeout: 30) { $0 >= 20 }
            #expect(busy >= 20, "the embedded workers were running jobs")
            let inFlight = try Self.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing'")
            #expect(inFlight > 0, "jobs were in flight at the hang-up")

            guard let pid = tmux.foregroundChildPID() else {
                Issue.record("no dashboard process under the shell")
                return
            }
            kill(pid, SIGHUP)
            let seconds = tmux.expectRestoredShell(timeout: grace + 10)
            #expect(!tmux.alternateScreenOn)
            let processing = try Self.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing'")
            #expect(processing == 0, "in-flight jobs finished or were released")
            let running = try Self.count(conn, "SELECT count(*)::int FROM workers WHERE status <> 'stopped'")
            #expect(running == 0, "the embedded pool deregistered")
            let doneAtHangup = try Self.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'")

            let log = FileManager.default.temporaryDirectory.appendingPathComponent("hup-\(UUID().uuidString).log").path
            defer { try? FileManager.default.removeItem(atPath: log) }
            let worker = try QueuetopBinary.start(["worker", "--db", db.conninfo, "--concurrency", "32"], stderrLog: log)
            defer { if worker.isRunning { worker.terminate(); worker.waitUntilExit() } }
            let completed = try Self.poll(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'", timeout: 60) { $0 == total }
            #expect(completed == total, "every job completes once a worker runs")
            let other = try Self.count(conn, "SELECT count(*)::int FROM job_queue WHERE status <> 'completed'")
            #expect(other == 0)
            print("DASHFAULT | sighup | jobs \(total) | in flight \(inFlight) | completed before exit \(doneAtHangup) | exit after \(String(format: "%.1f", seconds)) s | lost \(total - completed) | stuck \(processing)")
        }
    }

    /// A dashboard over one dead-lettered "emails" queue in a tmux pane of `width`×`height`
    /// with `environment` (QT_BIN and QT_DB are added).
    static func openDashboard(_ db: TestDatabase, width: Int, height: Int, environment: [String: String] = [:],
                              alternateScreen: Bool = true) throws -> TmuxSession {
        let conn = try db.connect()
        defer { conn.close() }
        _ = try seedDeadLetters(conn, 2, type: "timeout")
        let tmux = try TmuxSession(width: width, height: height, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
        try tmux.launchDashboard("dash --no-workers", environment: environment, alternateScreen: alternateScreen)
        return tmux
    }

    /// Q quits from whatever is on screen, and the shell is back with status 0.
    static func quit(_ tmux: TmuxSession, tall: Bool = true) throws {
        try tmux.keys("Q")
        tmux.expectRestoredShell(shellLinesVisible: tall)
    }

    static func nonASCIIBytes(_ text: String) -> Int { text.utf8.filter { $0 >= 0x80 }.count }

    /// SGR sequences in `capture-pane -e` output that set a colour (30–37, 38;…, 40–47, 48;…,
    /// 90–97, 100–107); bold, reverse and resets are allowed.
    static func colourSequences(_ text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "\u{1B}\\[([0-9;]*)m")
        let range = NSRange(text.startIndex..., in: text)
        return pattern.matches(in: text, range: range).compactMap { match in
            let params = String(text[Range(match.range(at: 1), in: text)!]).split(separator: ";").compactMap { Int($0) }
            let colour = params.contains { (30...38).contains($0) || (40...48).contains($0) || (90...97).contains($0) || (100...107).contains($0) }
            return colour ? String(text[Range(match.range, in: text)!]) : nil
        }
    }

    /// The smallest usable terminal (20×5) gets the compact layout; one column or row less gets
    /// the "too small" screen with the sizes; Q leaves both cleanly.
    @Test func tinyTerminalsShowTheCompactLayoutOrTheTooSmallMessageAndQuitCleanly() throws {
        try TestDatabase.with { db in
            let smallest = try Self.openDashboard(db, width: 20, height: 5)
            defer { smallest.close() }
            let compact = smallest.waitFor(timeout: 10) { $0.contains("Queues") || $0.contains("emails") }
            #expect(compact != nil, "20x5 shows the compact overview: \(smallest.screen())")
            #expect(compact?.contains("too small") == false)
            try Self.quit(smallest, tall: false)

            let tiny = try Self.openDashboard(db, width: 19, height: 4)
            defer { tiny.close() }
            let message = tiny.waitFor(timeout: 10) { $0.contains("Terminal too small") }
            #expect(message != nil, "19x4 says it is too small: \(tiny.screen())")
            #expect(message?.contains("need 20x5") == true)
            try Self.quit(tiny, tall: false)
        }
    }

    /// LANG=C (an SSH session without a UTF-8 locale): not one byte above 0x7F on screen.
    @Test func aCLocaleGetsAPureASCIIScreen() throws {
        try TestDatabase.with { db in
            let tmux = try Self.openDashboard(db, width: 80, height: 24, environment: ["LANG": "C", "LC_ALL": "C"])
            defer { tmux.close() }
            let screen = tmux.waitFor(timeout: 10) { $0.contains("emails") }
            #expect(screen != nil, "the overview is drawn: \(tmux.screen())")
            #expect(Self.nonASCIIBytes(screen ?? "") == 0, "non-ASCII bytes on a LANG=C screen:\n\(screen ?? "")")
            try tmux.keys("3")  // the DLQ screen has its own glyphs (the row marker)
            let dlq = tmux.waitFor(timeout: 10) { $0.contains("Dead-letter groups") }
            #expect(dlq != nil)
            #expect(Self.nonASCIIBytes(dlq ?? "") == 0, "non-ASCII bytes on the LANG=C DLQ screen:\n\(dlq ?? "")")
            try Self.quit(tmux)
        }
    }

    /// NO_COLOR=1: attributes (bold, reverse) but no colour at all. The control run sets an
    /// empty NO_COLOR (colour allowed, per no-color.org) and does show colour, so the check can
    /// see it; an empty value rather than none because `swift test` itself exports NO_COLOR=1,
    /// which the tmux server inherits.
    @Test func noColorDrawsWithoutAnyColourSequence() throws {
        try TestDatabase.with { db in
            for noColor in [true, false] {
                let tmux = try Self.openDashboard(db, width: 80, height: 24, environment: ["NO_COLOR": noColor ? "1" : ""])
                defer { tmux.close() }
                #expect(tmux.waitFor(timeout: 10) { $0.contains("emails") } != nil)
                let colours = Self.colourSequences(tmux.screenWithEscapes())
                if noColor {
                    #expect(colours.isEmpty, "colour with NO_COLOR=1: \(Set(colours).map { $0.debugDescription })")
                } else {
                    #expect(!colours.isEmpty, "the control run (colour allowed) shows colour: \(tmux.screenWithEscapes().debugDescription)")
                }
                try Self.quit(tmux)
            }
        }
    }

    /// TERM=dumb (an SSH client that sent no TERM): the product drives the terminal as a VT100
    /// in ASCII rather than refusing (Sources/Curses/Terminal.swift); it draws, Q exits 0 and
    /// the shell works again. A VT100 has no alternate screen, so the last frame stays above
    /// the prompt (not cleared): asserted as is, not as a restored screen.
    @Test func termDumbDrawsAnASCIIDashboardAndQuitsCleanly() throws {
        try TestDatabase.with { db in
            let tmux = try Self.openDashboard(db, width: 80, height: 24, environment: ["TERM": "dumb"], alternateScreen: false)
            defer { tmux.close() }
            let screen = tmux.waitFor(timeout: 20) { $0.contains("emails") && $0.contains("Queues (") }
            #expect(screen != nil, "the overview is drawn: \(tmux.screen())")
            #expect(Self.nonASCIIBytes(screen ?? "") == 0, "non-ASCII bytes with TERM=dumb:\n\(screen ?? "")")
            try tmux.keys("Q")
            let exited = tmux.waitFor(timeout: 20) { $0.split(separator: "\n").contains { $0.hasPrefix("exit=") } }
            #expect(exited?.split(separator: "\n").contains { $0.hasPrefix("exit=0") } == true, "exit 0: \(tmux.screen())")
            try tmux.type("echo shell-ok-$((40 + 2))", enter: true)
            #expect(tmux.waitFor(timeout: 10) { $0.contains("shell-ok-42") } != nil, "the shell reads and echoes again: \(tmux.screen())")
            #expect(!tmux.alternateScreenOn)
        }
    }

    /// Resizing while running: 120×40 → 20×5 → 19×4 (too small) → 120×40 redraws each time
    /// without crashing, and the full layout comes back.
    @Test func resizingDownToTooSmallAndBackRedraws() throws {
        try TestDatabase.with { db in
            let tmux = try Self.openDashboard(db, width: 120, height: 40)
            defer { tmux.close() }
            #expect(tmux.waitFor(timeout: 10) { $0.contains("Queues (") } != nil)
            try tmux.resize(width: 20, height: 5)
            #expect(tmux.waitFor(timeout: 10) { s in s.split(separator: "\n").allSatisfy { $0.count <= 20 } && !s.contains("too small") } != nil)
            try tmux.resize(width: 19, height: 4)
            #expect(tmux.waitFor(timeout: 10) { $0.contains("Terminal too small") } != nil, "too small: \(tmux.screen())")
            try tmux.resize(width: 120, height: 40)
            let back = tmux.waitFor(timeout: 10) { $0.contains("Queues (") && !$0.contains("too small") }
            #expect(back != nil, "the full layout is back: \(tmux.screen())")
            #expect(tmux.alternateScreenOn, "still running")
            try Self.quit(tmux)
        }
    }
}

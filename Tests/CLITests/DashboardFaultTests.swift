import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Faults injected into the real dashboard in a real terminal (tmux): a dropped SSH session,
/// small and plain terminals, PostgreSQL going away, a slow link. docs/RELIABILITY.md records
/// the runs. Serialized: each runs a dashboard process, and the machine is small.
@Suite(.serialized) struct DashboardFaultTests: CountPolling {

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
    /// the shell works again. A VT100 has no alternate screen, so quitting clears the last
    /// frame instead of leaving it above the prompt.
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
            #expect(exited?.contains("Queues (") == false, "the last frame was cleared: \(exited ?? "")")
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

    /// Seconds until `condition` holds on screen (nil on timeout), polled every 0.1 s.
    static func secondsUntil(_ tmux: TmuxSession, timeout: Double, _ condition: (String) -> Bool) -> Double? {
        let started = Date()
        return tmux.waitFor(timeout: timeout, condition).map { _ in Date().timeIntervalSince(started) }
    }

    /// PostgreSQL stopped under an open dashboard: the disconnected banner appears over the last
    /// data; once the server is back the banner goes and fresh data (a queue created after the
    /// restart) shows.
    @Test func postgresStoppedAndStartedUnderTheDashboardShowsTheBannerThenRecovers() throws {
        let cluster = try PrivateCluster(prefix: "dashpg")
        defer { cluster.destroy() }
        let setup = try Connection.connect(cluster.sqlConfig)
        try setup.execute("SELECT enqueue_job('before_outage', 'noop')")
        setup.close()
        let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": cluster.url])
        defer { tmux.close() }
        try tmux.launchDashboard("dash --no-workers --refresh 1")
        #expect(tmux.waitFor(timeout: 15) { $0.contains("before_outage") } != nil, "the queue is on screen")

        try cluster.stop()
        let bannerAfter = Self.secondsUntil(tmux, timeout: 20) { $0.contains("disconnected") && $0.contains("retrying") }
        let outage = tmux.screen()
        #expect(bannerAfter != nil, "the disconnected banner shows: \(outage)")
        #expect(outage.contains("before_outage"), "the last data stays on screen")
        #expect(outage.contains("stale"), "and is called stale")

        try cluster.start()
        let restarted = Date()
        let conn = try Connection.connect(cluster.sqlConfig)
        defer { conn.close() }
        try conn.execute("SELECT enqueue_job('after_outage', 'noop')")
        let recovered = tmux.waitFor(timeout: 25) { $0.contains("after_outage") && !$0.contains("disconnected") }
        let recoveredAfter = Date().timeIntervalSince(restarted)
        #expect(recovered != nil, "the banner goes and a fresh refresh shows: \(tmux.screen())")
        #expect(recoveredAfter <= 20, "recovered after \(recoveredAfter) s")
        print("DASHFAULT | postgres stop/start | banner after \(String(format: "%.1f", bannerAfter ?? -1)) s | recovered \(String(format: "%.1f", recoveredAfter)) s after start")
        try Self.quit(tmux)
    }

    /// A 500 ms round trip (SlowProxy, 250 ms each way) between the dashboard and PostgreSQL:
    /// switching screens does not wait for the slow refresh, and a DLQ requeue still confirms with
    /// the exact count and lands in the database.
    @Test func overASlowLinkKeysStayResponsiveAndARequeueConfirms() throws {
        let link = try ProxiedCluster(prefix: "dashslow", delay: 0.25)
        defer { link.destroy() }
        let direct = try link.direct()
        defer { direct.close() }
        let target = try seedDeadLetters(direct, 3, type: "smtp_error")
        let slowConninfo = link.conninfo

        // What one round trip costs on this link, measured rather than assumed.
        let slow = try Connection.connect(try ConnectionConfig(slowConninfo))
        let pinged = Date()
        _ = try slow.query("SELECT 1").scalar(Int.self)
        let roundTrip = Date().timeIntervalSince(pinged)
        slow.close()
        #expect(roundTrip >= 0.5, "the link is slow: \(roundTrip) s a round trip")

        let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": slowConninfo])
        defer { tmux.close() }
        try tmux.launchDashboard("dash --no-workers")
        #expect(tmux.waitFor(timeout: 30) { $0.contains("emails") } != nil, "the overview arrives over the slow link")
        var switches: [Double] = []
        for _ in 0..<3 {
            try tmux.keys("3")
            switches.append(Self.secondsUntil(tmux, timeout: 10) { $0.contains("Dead-letter groups") } ?? 99)
            try tmux.keys("1")
            switches.append(Self.secondsUntil(tmux, timeout: 10) { $0.contains("Queues (") } ?? 99)
        }
        #expect(switches.allSatisfy { $0 < 1.5 }, "screen switches took \(switches) s")

        try tmux.keys("3")
        #expect(tmux.waitFor(timeout: 20) { $0.contains("Dead-letter groups (1)") } != nil, "the group is listed")
        try tmux.keys("r")
        // The group is the queue and the error fingerprint: "… / smtp_error 25047fd27829?".
        let prompt = "Requeue 3 jobs from emails / smtp_error "
        let asked = Date()
        let shown = tmux.waitFor(timeout: 20) { $0.contains(prompt) }
        let promptAfter = Date().timeIntervalSince(asked)
        #expect(shown != nil, "the confirmation shows the exact count: \(tmux.screen())")
        guard shown != nil else { try tmux.keys("Escape"); try Self.quit(tmux); return }
        try tmux.keys("y")
        let confirmed = Date()
        let deadline = Date().addingTimeInterval(20)
        while try jobStatuses(direct, target) != ["pending"], Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let landedAfter = Date().timeIntervalSince(confirmed)
        #expect(try jobStatuses(direct, target) == ["pending"], "the requeue landed")
        let audit = try AuditStore(connection: direct).list(action: "dlq.requeue")
        #expect(audit.count == 1 && audit.first?.affected == 3)
        #expect(tmux.waitFor(timeout: 20) { $0.contains("requeued 3") } != nil, "the flash confirms: \(tmux.screen())")
        print("DASHFAULT | slow link | round trip \(String(format: "%.2f", roundTrip)) s | screen switches max \(String(format: "%.2f", switches.max() ?? 0)) s | prompt after \(String(format: "%.1f", promptAfter)) s | requeue landed after \(String(format: "%.1f", landedAfter)) s")
        try Self.quit(tmux)
    }
}

import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The Jobs screen's actions end to end, in tmux against the real binary (120×40): cancel a
/// running `command` job from the running tab and watch it end cancelled (operator) with its
/// child process gone; a bulk cancel of 20,000 jobs shows its progress line, and
/// Esc stops it between batches with the audit row saying how far it got.
@Suite(.serialized) struct JobsBulkDashboardTests {
    typealias W = WorkersCLITests

    /// Gone, or a zombie nobody has reaped yet (it runs nothing any more).
    static func processGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true
    }

    @Test func cancelARunningCommandJobFromTheRunningTab() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)"); return
        }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-jobs-cancel-\(UUID())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let pidFile = dir.appendingPathComponent("child.pid").path
            let config = dir.appendingPathComponent("handlers.json").path
            // The shell starts `sleep 60` in its process group, writes its pid, and waits for it.
            let handlers = #"{"handlers": {"sleeper": {"kind": "command", "argv": ["/bin/sh", "-c", "sleep 60 & echo $! > \#(pidFile); wait"], "timeout_s": 600}}}"#
            try handlers.write(toFile: config, atomically: true, encoding: .utf8)
            let id = try JobStore(connection: conn).enqueue(NewJob(queue: "cq", type: "sleeper")).id
            let short = ShortJobID.of(id)
            let log = dir.appendingPathComponent("worker.log").path
            let worker = try QueuetopBinary.start(["worker", "--queues", "cq", "--concurrency", "1", "--config", config],
                                                  environment: ["DATABASE_URL": db.conninfo], stderrLog: log)
            defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL); worker.waitUntilExit() } }
            #expect(W.eventually(timeout: 30) {
                (try? String(contentsOfFile: pidFile, encoding: .utf8))?.hasSuffix("\n") == true
            }, "the command started: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                  let child = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
            #expect(!Self.processGone(child))

            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys(":")
            try tmux.type("jobs queue:cq", enter: true)
            #expect(tmux.waitFor(timeout: 15) { $0.contains("Jobs pending") } != nil, "\(tmux.screen())")
            try tmux.keys(">", ">", ">")
            #expect(tmux.waitFor(timeout: 15) { $0.contains("Jobs running") && $0.contains(short) } != nil,
                    "the running tab lists the job: \(tmux.screen())")
            try tmux.keys("c")
            let prompt = Confirmation(action: .cancelRunningJob(id, label: "sleeper job \(short) on cq"), count: 1).prompt
            #expect(tmux.waitFor(timeout: 15) { $0.contains(prompt) } != nil, "no confirmation '\(prompt)': \(tmux.screen())")
            try tmux.keys("y")
            // It leaves the running tab...
            #expect(tmux.waitFor(timeout: 20) { $0.contains("Jobs running") && !$0.contains(short) } != nil,
                    "the job left the running tab: \(tmux.screen())")
            // ...and the cancelled tab shows it, cancelled by an operator.
            try tmux.keys(">", ">")
            let row = tmux.waitFor(timeout: 20) { screen in
                screen.contains("Jobs cancelled") && screen.split(separator: "\n").contains { $0.contains(short) && $0.contains("operator") }
            }
            #expect(row != nil, "the cancelled tab shows it cancelled (operator): \(tmux.screen())")
            #expect(W.eventually(timeout: 15) { Self.processGone(child) }, "sleep 60 still runs")
            #expect(try conn.query("SELECT status || ' ' || coalesce(cancel_reason, '') FROM job_queue WHERE id = \(id)").scalar(String.self)
                    == "cancelled operator")
            #expect(try W.audits(conn, "job.cancel").count == 1)
            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }

    @Test func aBulkCancelOfTwentyThousandJobsShowsItsProgressAndStopsOnEsc() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)"); return
        }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let total = 20_000
            try conn.execute("SELECT enqueue_job('bulk', 'send_campaign') FROM generate_series(1, \(total))")
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys(":")
            try tmux.type("jobs queue:bulk", enter: true)
            #expect(tmux.waitFor(timeout: 15) { $0.contains("Jobs pending") && $0.contains("page 1") } != nil, "\(tmux.screen())")
            try tmux.keys("c")
            let prompt = "Cancel \(total) jobs matching queue:bulk state:pending?"
            let asked = tmux.waitFor(timeout: 30) { $0.contains(prompt) }
            #expect(asked != nil, "the exact count is asked: \(tmux.screen())")
            guard asked != nil else { try tmux.keys("Escape"); try tmux.keys("Q"); return }
            try tmux.keys("y")
            let progress = tmux.waitFor(timeout: 30) { $0.contains("cancelling ") && $0.contains(" / 20,000") && $0.contains("Esc stops after this batch") }
            #expect(progress != nil, "the progress line: \(tmux.screen())")
            // The screen stays alive while it runs: another tab, then back.
            try tmux.keys(">")
            #expect(tmux.waitFor(timeout: 15) { $0.contains("Jobs scheduled") } != nil, "keys still work: \(tmux.screen())")
            try tmux.keys("Escape")
            let ended = tmux.waitFor(timeout: 60) { $0.contains("stopped: cancelled") || $0.contains("cancelled 20,000 jobs") }
            #expect(ended != nil, "\(tmux.screen())")
            let cancelled = try conn.query("SELECT count(*)::int FROM job_queue WHERE queue = 'bulk' AND status = 'cancelled'").scalar(Int.self)
            let audit = try conn.query("""
                SELECT affected::int, coalesce(filter->>'outcome', ''), coalesce((filter->>'done')::int, -1)
                FROM audit_log WHERE action = 'jobs.cancel'
                """).map { (try $0.decode(0, as: Int.self), try $0.decode(1, as: String.self), try $0.decode(2, as: Int.self)) }
            #expect(audit.count == 1, "one audit row for the whole action")
            if ended?.contains("stopped: cancelled") == true {
                // Stopped between batches: what was done stays done, and the row says so.
                #expect(cancelled > 0 && cancelled < total)
                #expect(audit.first.map { $0.0 == cancelled && $0.1 == "stopped" && $0.2 == cancelled } == true, "\(audit)")
                let pending = try conn.query("SELECT count(*)::int FROM job_queue WHERE queue = 'bulk' AND status = 'pending'").scalar(Int.self)
                #expect(pending == total - cancelled)
            } else {
                // It finished before Esc arrived (a fast machine): all of them, no outcome.
                #expect(cancelled == total)
                #expect(audit.first.map { $0.0 == total && $0.1 == "" } == true, "\(audit)")
            }
            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }

    /// The CLI on a terminal: the same progress line on stderr while the batches run, and ^C
    /// stops after the batch in flight, saying so; the audit row says how far it got.
    @Test func theCLIShowsProgressOnATerminalAndStopsOnControlC() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)"); return
        }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let total = 20_000
            try conn.execute("SELECT enqueue_job('bulk', 'send_campaign') FROM generate_series(1, \(total))")
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.type("\"$QT_BIN\" jobs cancel --where queue:bulk --yes --batch-size 500 --db \"$QT_DB\"; echo \"exit=$?\"", enter: true)
            let progress = tmux.waitFor(timeout: 60) { $0.contains("cancelling ") && $0.contains(" / 20,000") && $0.contains("^C stops after this batch") }
            #expect(progress != nil, "the progress line: \(tmux.screen())")
            try tmux.keys("C-c")
            let ended = tmux.waitFor(timeout: 60) { $0.contains("exit=") && ($0.contains("stopped on ^C") || $0.contains("cancelled 20000 of 20000")) }
            #expect(ended != nil, "\(tmux.screen())")
            let cancelled = try conn.query("SELECT count(*)::int FROM job_queue WHERE queue = 'bulk' AND status = 'cancelled'").scalar(Int.self)
            let outcome: [String] = try conn.query("SELECT coalesce(filter->>'outcome', '') FROM audit_log WHERE action = 'jobs.cancel'").map { try $0.decode(0) }
            if ended?.contains("stopped on ^C") == true {
                #expect(ended?.contains("cancelled \(cancelled) of \(total) job(s); stopped on ^C") == true, "\(ended ?? "")")
                #expect(cancelled < total && outcome == ["stopped"])
            } else {
                #expect(cancelled == total && outcome == [""])
            }
        }
    }
}

import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The real binary in a real terminal (tmux, 120×40) against the private Postgres, driven with
/// keystrokes as an on-call engineer would. Serialized: each runs a dashboard process, and the
/// machine is small.
@Suite(.serialized) struct DashboardEndToEndTests {
    @Test func requeueAGroupFromTheDLQScreenTouchesExactlyThoseJobsAndIsAudited() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // Groups are listed biggest first: timeout (4) on row 0, smtp_error (3) on row 1.
            let other = try seedDeadLetters(conn, 4, type: "timeout")
            let target = try seedDeadLetters(conn, 3, type: "smtp_error")
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys("3")
            // An operator moves once the groups are on screen (keys before that act on an empty
            // list). "smtp_error" alone is not enough: the overview's top-errors panel shows it too.
            #expect(tmux.waitFor(timeout: 10) { $0.contains("Dead-letter groups (2)") } != nil, "the DLQ groups are listed")
            try tmux.keys("Down")
            // …and acts once the cursor is on the row (the ▸ marker, > in ASCII).
            func smtpRowSelected(_ screen: String) -> Bool {
                screen.split(separator: "\n").contains { $0.contains("smtp_error") && ($0.contains("▸") || $0.contains(">")) }
            }
            #expect(tmux.waitFor(timeout: 10, smtpRowSelected) != nil, "the cursor is on the smtp_error group")
            try tmux.keys("r")
            // seedDeadLetters fails every job with "smtp down": one group per type.
            let fingerprint: String = try conn.query("SELECT error_fingerprint('smtp_error', 'smtp down')").scalar()
            let key = DLQGroupKey(queue: "emails", fingerprint: fingerprint, errorType: "smtp_error")
            let prompt = Confirmation(action: .requeueGroup(key, resetAttempts: false, asOf: nil), count: 3).prompt
            #expect(prompt == "Requeue 3 jobs from emails / smtp_error \(fingerprint)?")
            let shown = tmux.waitFor(timeout: 15) { $0.contains(prompt) }
            #expect(shown != nil, "the confirmation shows the exact count: \(tmux.screen())")
            // Never confirm a dialog that does not say what the test expects.
            guard shown != nil else { try tmux.keys("Escape"); try tmux.keys("Q"); return }
            try tmux.keys("y")

            let deadline = Date().addingTimeInterval(15)
            while try jobStatuses(conn, target) != ["pending"], Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            #expect(try jobStatuses(conn, target) == ["pending"])
            #expect(try jobStatuses(conn, other) == ["dead_letter"])
            let audit = try AuditStore(connection: conn).list(action: "dlq.requeue")
            #expect(audit.count == 1 && audit.first?.affected == 3)
            #expect(audit.first?.clientLabel == OperatorIdentity.applicationName())

            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }

    @Test func disableAndRunAScheduleFromTheSchedulesScreen() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = ScheduleStore(connection: conn)
            _ = try store.add(NewSchedule(name: "nightly-report", cron: "0 2 * * *", queue: "reports",
                                          jobType: "build_report", payload: JSONText("{}"), priority: 0))
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys("7")
            // Waits sit outside #expect: inside it, Swift 6.3.1 gave this closure the symbol of the
            // "Run schedule … now?" one below, which then passed on the list alone (scripts/check-closures).
            let listed = tmux.waitFor(timeout: 10) { $0.contains("Schedule nightly-report") }
            #expect(listed != nil, "the schedule is listed and selected")
            try tmux.keys("e")
            let deadline = Date().addingTimeInterval(15)
            while try store.get("nightly-report").enabled, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            #expect(try store.get("nightly-report").enabled == false)
            let disabled = tmux.waitFor(timeout: 10) { $0.contains("disabled schedule nightly-report") }
            #expect(disabled != nil, "the flash says it is disabled: \(tmux.screen())")

            try tmux.keys("t")
            let prompt = Confirmation(action: .runSchedule(name: "nightly-report", queue: "reports", jobType: "build_report"), count: 1).prompt
            let shown = tmux.waitFor(timeout: 15) { $0.contains("Run schedule nightly-report now?") }
            #expect(shown != nil, "the confirmation asks first: \(tmux.screen())")
            guard shown != nil else { try tmux.keys("Escape"); try tmux.keys("Q"); return }
            #expect(prompt.hasPrefix("Run schedule nightly-report now?"))
            try tmux.keys("y")
            let ran = tmux.waitFor(timeout: 15) { $0.contains("ran schedule nightly-report") }
            #expect(ran != nil, "the flash says it ran: \(tmux.screen())")
            let jobs = try conn.query("SELECT count(*) FROM job_queue WHERE queue = 'reports'").scalar(Int64.self)
            #expect(jobs == 1)
            let actions = try AuditStore(connection: conn).list().map(\.action)
            #expect(actions.prefix(2) == ["schedule.run", "schedule.disable"])

            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }

    /// A job id from an application log, opened with `:job ID`: the operator watches it go from
    /// pending to completed with its result, and Esc returns to the overview.
    @Test func openAJobByIDAndWatchItCompleteWithItsResult() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = JobStore(connection: conn)
            let id = try store.enqueue(NewJob(queue: "store_sync", type: "sync_store", payload: JSONText(#"{"store_id": 7}"#),
                                              dedupKey: "store:7", uniqueForSeconds: 600, tenant: "shop-7")).id
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers --refresh 1")
            #expect(tmux.waitFor(timeout: 10) { $0.contains("store_sync") } != nil, "the overview is up")
            try tmux.type(":job not-an-id", enter: true)
            #expect(tmux.waitFor(timeout: 10) { $0.contains("'not-an-id' is not a job id") } != nil, "a bad id is refused: \(tmux.screen())")
            try tmux.type(":job \(id.uuidString.lowercased())", enter: true)
            let pending = tmux.waitFor(timeout: 10) { $0.contains("status    pending") && $0.contains("tenant    shop-7") }
            #expect(pending != nil, "the job is shown: \(tmux.screen())")
            #expect(pending?.contains("Job › \(id.uuidString.lowercased())") == true)

            _ = try store.claim(worker: "e2e", queues: ["store_sync"], max: 1)
            try store.complete(worker: "e2e", ids: [JobID(id)], processingMs: [1_400], results: [JSONText(#"{"synced": 1284}"#)])
            let done = tmux.waitFor(timeout: 10) { $0.contains("status    completed") && $0.contains(#""synced": 1284"#) }
            #expect(done != nil, "a refresh shows it completed, with its result: \(tmux.screen())")
            #expect(done?.contains("took     1.4s") == true, "\(done ?? "")")

            try tmux.keys("Escape")
            #expect(tmux.waitFor(timeout: 10) { !$0.contains("Job ›") && $0.contains("store_sync") } != nil, "Esc is back on the overview")
            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }

    /// Steady state on an idle database: a refresh that changes nothing writes next to nothing.
    @Test func anIdleRefreshWritesUnderTwoKilobytesAndSIGHUPRestoresTheTerminal() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try seedDeadLetters(conn, 2, type: "timeout")
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            let capture = FileManager.default.temporaryDirectory.appendingPathComponent("\(tmux.name).bytes").path
            defer { try? FileManager.default.removeItem(atPath: capture) }
            try tmux.recordOutput(to: capture)
            let interval = 0.5
            try tmux.launchDashboard("dash --no-workers --refresh \(interval)")
            Thread.sleep(forTimeInterval: 3)  // first frame, first refreshes, listener connected
            let refreshes = 20.0
            let before = fileSize(capture)
            Thread.sleep(forTimeInterval: refreshes * interval)
            let perRefresh = Double(fileSize(capture) - before) / refreshes
            print("dashboard bytes per idle refresh (120x40, --refresh \(interval)): \(perRefresh)")
            #expect(perRefresh < 2048, "\(perRefresh) bytes per refresh")

            guard let pid = tmux.foregroundChildPID() else {
                Issue.record("no dashboard process under the shell")
                return
            }
            kill(pid, SIGHUP)
            tmux.expectRestoredShell()
        }
    }

    /// With the embedded workers, quitting stops them gracefully: the worker row is deregistered.
    @Test func quittingWithWorkersDeregistersThePool() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "bench", type: "noop"))
            let tmux = try TmuxSession(width: 80, height: 24, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --concurrency 2 --grace 5")
            let deadline = Date().addingTimeInterval(20)
            var done = 0
            while done == 0, Date() < deadline {
                done = try conn.query("SELECT count(*)::int FROM job_queue WHERE status = 'completed'").scalar()
                Thread.sleep(forTimeInterval: 0.1)
            }
            #expect(done == 1, "the embedded pool ran the job")
            try tmux.keys("Q")
            tmux.expectRestoredShell(timeout: 30)
            let running: Int = try conn.query("SELECT count(*)::int FROM workers WHERE status <> 'stopped'").scalar()
            #expect(running == 0)
        }
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}

@testable import DashboardRuntime
import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The Schedules screen's load and actions through the dashboard's database thread: what the
/// operator is told, and what the database and its audit log end up with.
@Suite struct ScheduleEffectTests {
    let finished: (Message) -> String? = { if case .actionFinished(let t, _) = $0 { t } else { nil } }
    let failed: (Message) -> String? = { if case .actionFailed(let t, _) = $0 { t } else { nil } }

    func addReport(_ conn: Connection) throws {
        _ = try ScheduleStore(connection: conn).add(NewSchedule(
            name: "nightly-report", cron: "0 2 * * *", queue: "reports", jobType: "build_report",
            payload: JSONText(#"{"period": "day"}"#), priority: 0))
    }

    @Test func loadingListsEveryScheduleWithItsNextRun() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let harness = RunnerHarness(db.config)
            let none = harness.post([.loadSchedules]) { if case .schedulesLoaded(let s) = $0 { s } else { nil } }
            #expect(none == [])
            try addReport(conn)
            let loaded = harness.post([.loadSchedules]) { if case .schedulesLoaded(let s) = $0 { s } else { nil } }
            let report = try #require(loaded?.first)
            #expect(loaded?.count == 1)
            #expect(report.name == "nightly-report" && report.cron == "0 2 * * *" && report.enabled)
            #expect(report.queue == "reports" && report.jobType == "build_report")
            #expect(report.nextRunAt > Date().addingTimeInterval(-60) && report.lastRunAt == nil)
        }
    }

    @Test func disableThenEnableChangesTheRowAndAuditsEachAsTheOperator() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try addReport(conn)
            let harness = RunnerHarness(db.config)
            let off = harness.post([.perform(.setScheduleEnabled(name: "nightly-report", enabled: false))], until: finished)
            #expect(off == "disabled schedule nightly-report")
            #expect(try ScheduleStore(connection: conn).get("nightly-report").enabled == false)
            let on = harness.post([.perform(.setScheduleEnabled(name: "nightly-report", enabled: true))], until: finished)
            #expect(on?.hasPrefix("enabled schedule nightly-report") == true)
            #expect(try ScheduleStore(connection: conn).get("nightly-report").enabled == true)
            // Newest first; the oldest row is the test's own `schedule.add`.
            let audit = try AuditStore(connection: conn).list().filter { $0.action != "schedule.add" }
            #expect(audit.map(\.action) == ["schedule.enable", "schedule.disable"])
            #expect(audit.allSatisfy { $0.clientLabel == "queuetop tester@testhost" })
        }
    }

    @Test func runNowEnqueuesOneJobAndAuditsIt() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try addReport(conn)
            let harness = RunnerHarness(db.config)
            let action = OperatorAction.runSchedule(name: "nightly-report", queue: "reports", jobType: "build_report")
            let text = try #require(harness.post([.perform(action)], until: finished))
            #expect(text.hasPrefix("ran schedule nightly-report: enqueued build_report job "))
            let types = try conn.query("SELECT job_type FROM job_queue WHERE queue = 'reports'").map { try $0.decode(0, as: String.self) }
            #expect(types == ["build_report"])
            let audit = try AuditStore(connection: conn).list().filter { $0.action != "schedule.add" }
            #expect(audit.map(\.action) == ["schedule.run"] && audit.first?.clientLabel == "queuetop tester@testhost")
        }
    }

    @Test func anUnknownScheduleIsRefusedAndChangesNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let harness = RunnerHarness(db.config)
            let run = harness.post([.perform(.runSchedule(name: "gone", queue: "q", jobType: "t"))], until: failed)
            #expect(run?.hasPrefix("run schedule failed:") == true && run?.contains("unknown schedule") == true)
            let toggle = harness.post([.perform(.setScheduleEnabled(name: "gone", enabled: false))], until: failed)
            #expect(toggle?.contains("unknown schedule") == true)
            let count = try conn.query("SELECT count(*) FROM job_queue").scalar(Int64.self)
            #expect(count == 0)
            #expect(try AuditStore(connection: conn).list().isEmpty)
        }
    }

    @Test func aReadOnlySessionCannotToggleOrRun() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try addReport(conn)
            let harness = RunnerHarness(db.config, readOnly: true)
            let toggle = harness.post([.perform(.setScheduleEnabled(name: "nightly-report", enabled: false))], until: failed)
            #expect(toggle?.contains("read-only") == true)
            #expect(try ScheduleStore(connection: conn).get("nightly-report").enabled)
            #expect(try AuditStore(connection: conn).list().map(\.action) == ["schedule.add"])
        }
    }
}

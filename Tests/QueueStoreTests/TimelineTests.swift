import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport

/// The incident timeline (85_timeline.sql): deploy marks, alert transitions recorded with or
/// without hooks, operator actions from the audit trail, one list newest first; and who may do what.
@Suite struct TimelineTests {
    @Test func marksAlertsAndActionsMergeNewestFirst() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let timeline = TimelineStore(connection: conn)
            let before = Date().addingTimeInterval(-60)
            let mark = try timeline.mark("deploy v42")
            #expect(mark.kind == "deploy" && mark.label == "deploy v42")

            // An alert fires with no hook configured: the timeline records it all the same.
            try seedDeadLetters(conn, 3, queue: "emails", type: "smtp")
            _ = try QueueConfigStore(connection: conn).update("emails", settings: JSONText(#"{"dlq_alert_threshold": 1}"#))
            #expect(try AlertHookStore(connection: conn).list().isEmpty)
            _ = try AlertHookStore(connection: conn).syncAlertStates(minInterval: 0)
            // The same alert on the next sync adds nothing; an operator action follows.
            _ = try AlertHookStore(connection: conn).syncAlertStates(minInterval: 0)
            _ = try QueueConfigStore(connection: conn).pause("emails")
            // The DLQ emptied below the threshold: the alert clears.
            _ = try QueueConfigStore(connection: conn).update("emails", settings: JSONText(#"{"dlq_alert_threshold": 100}"#))
            _ = try AlertHookStore(connection: conn).syncAlertStates(minInterval: 0)

            let entries = try timeline.list(since: before)
            #expect(entries.map(\.at) == entries.map(\.at).sorted(by: >), "newest first")
            let dlqAlerts = entries.filter { $0.source == .alert && $0.queue == "emails" && $0.detail.raw.contains("dlq_above_threshold") }
            #expect(dlqAlerts.map(\.event) == ["alert.cleared", "alert.firing"], "one fire, one clear: \(dlqAlerts.map(\.event))")
            #expect(entries.contains { $0.source == .mark && $0.summary == "deploy v42" && $0.actor != nil })
            let pause = try #require(entries.first { $0.event == "queue.pause" })
            #expect(pause.queue == "emails" && pause.source == .audit)
            let audited = try AuditStore(connection: conn).list(action: "queue.pause")
            #expect(pause.id == audited.first?.id, "the entry opens its audit row")
        }
    }

    @Test func anActionOnOneJobOpensThatJob() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let job = try JobStore(connection: conn).enqueue([NewJob(queue: "emails", type: "send")])[0]
            try JobStore(connection: conn).cancel(id: job.id)
            // A raw record_audit call may put anything in a filter: an id that is no uuid is no job,
            // and it does not make the whole timeline fail.
            try conn.query("SELECT \(qt: "record_audit")('custom', '{\"job_id\": \"not-a-uuid\", \"ids\": [\"x\"]}'::jsonb, 1)")
            let entries = try TimelineStore(connection: conn).list(since: Date().addingTimeInterval(-60))
            #expect(entries.first { $0.event == "job.cancel" }?.jobID == job.id)
            #expect(entries.first { $0.event == "custom" }.map { $0.jobID == nil } == true)
        }
    }

    @Test func theWindowAndTheRowCountAreBounded() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = TimelineStore(connection: conn)
            for i in 0..<5 { _ = try store.mark("deploy v\(i)") }
            #expect(try store.list(since: Date().addingTimeInterval(-60), limit: 3).map(\.summary) == ["deploy v4", "deploy v3", "deploy v2"])
            #expect(try store.list(since: Date().addingTimeInterval(-7200), until: Date().addingTimeInterval(-3600)).isEmpty,
                    "an earlier window holds nothing")
            // More than 1000 asked is 1000; a window that ends before it starts is refused.
            #expect(try conn.query("SELECT count(*)::int FROM \(qt: "timeline")(NULL, NULL, 1000000)").scalar(Int.self) == 5)
            #expect(throws: QueueStoreError.self) {
                _ = try store.list(since: Date(), until: Date().addingTimeInterval(-3600))
            }
        }
    }

    @Test func badLabelsAndKindsAreRefusedAndStoreNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = TimelineStore(connection: conn)
            for (label, kind) in [("", "deploy"), ("   ", "deploy"), (String(repeating: "x", count: 201), "deploy"),
                                  ("deploy\u{1B}[31m red", "deploy"), ("two\nlines", "deploy"), ("ok", "Deploy"),
                                  ("ok", "a kind"), ("ok", String(repeating: "k", count: 33)), ("bidi \u{85}", "deploy"),
                                  ("deploy \u{202E}24v", "deploy"), ("zero\u{200B}width", "deploy"), ("line\u{2028}sep", "deploy")] {
                #expect(throws: QueueStoreError.self, "label \(label.debugDescription) kind \(kind)") {
                    _ = try store.mark(label, kind: kind)
                }
            }
            // Straight to SQL too, past the Swift checks.
            #expect(throws: QueueStoreError.self) { try conn.run("SELECT \(qt: "mark_event")(NULL, 'deploy')") }
            #expect(throws: QueueStoreError.self) { try conn.run("SELECT \(qt: "mark_event")('ok', NULL)") }
            #expect(throws: QueueStoreError.self) { try conn.run("SELECT \(qt: "mark_event")(\("deploy \u{202E}24v"), 'deploy')") }
            #expect(try conn.query("SELECT count(*)::int FROM \(qt: "timeline_marks")").scalar(Int.self) == 0)
            // Unicode is fine, and 200 characters exactly.
            #expect(try store.mark("déploiement 日本 v42").label == "déploiement 日本 v42")
            #expect(try store.mark(String(repeating: "é", count: 200), kind: "note").label.count == 200)
        }
    }

    /// A database an older queuetop migrated says what to run, not "function does not exist".
    @Test func aDatabaseWithoutTheTimelineSaysToMigrate() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                DROP FUNCTION timeline(timestamptz, timestamptz, int); DROP FUNCTION mark_event(text, text);
                DROP TABLE timeline_marks
                """)
            for call in [{ _ = try TimelineStore(connection: conn).list(since: Date()) },
                         { _ = try TimelineStore(connection: conn).mark("deploy v42") }] as [() throws -> Void] {
                #expect(throws: QueueStoreError.notFound("this database has no incident timeline yet (migration 0022): run `queuetop migrate`")) {
                    try call()
                }
            }
        }
    }

    /// Each role tries what it must not do: viewers read the timeline but make no mark; producers
    /// (a deploy pipeline) and operators mark; workers neither mark nor read; nobody writes the
    /// tables directly, and the mark names the login role, whatever the client claims.
    @Test func rolesMayDoWhatTheirNamesSay() throws {
        try TestDatabase.with { db in
            let admin = try db.connect()
            defer { admin.close() }
            _ = try TimelineStore(connection: admin).mark("deploy v1")
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let conn = try Connection.connect(config)
                defer { conn.close() }
                #expect(try TimelineStore(connection: conn).list(since: Date().addingTimeInterval(-60)).count >= 1)
                #expect(throws: QueueStoreError.self) { _ = try TimelineStore(connection: conn).mark("deploy v2") }
                #expect(throws: (any Error).self) { try conn.run("INSERT INTO \(qt: "timeline_marks") (kind, label) VALUES ('deploy', 'x')") }
            }
            for group in ["queuetop_producer", "queuetop_operator"] {
                try db.withLoginRole(in: group) { config, role in
                    let conn = try Connection.connect(config.overriding("application_name", "ci pretending to be alice"))
                    defer { conn.close() }
                    let mark = try TimelineStore(connection: conn).mark("deploy by \(group)")
                    #expect(mark.databaseRole == role, "the mark names the login role")
                    for sql in ["INSERT INTO \(qt: "timeline_marks") (kind, label) VALUES ('deploy', 'x')",
                                "UPDATE \(qt: "timeline_marks") SET label = 'rewritten'",
                                "DELETE FROM \(qt: "alert_events")",
                                "SELECT \(qt: "_record_alert_events")('[]'::jsonb, now())"] as [Query] {
                        #expect(throws: (any Error).self, "\(group) ran \(sql.sql)") { try conn.run(sql) }
                    }
                }
            }
            try db.withLoginRole(in: "queuetop_worker") { config, _ in
                let conn = try Connection.connect(config)
                defer { conn.close() }
                #expect(throws: QueueStoreError.self) { _ = try TimelineStore(connection: conn).mark("deploy v3") }
                #expect(throws: QueueStoreError.self) { _ = try TimelineStore(connection: conn).list(since: Date().addingTimeInterval(-60)) }
            }
            #expect(try admin.query("SELECT count(*)::int FROM \(qt: "timeline_marks") WHERE label = 'rewritten'").scalar(Int.self) == 0)
        }
    }

    /// Attacker's view: a producer's credentials (an app's environment) in a loop of marks.
    /// Without a bound the marks push the operators' actions out of the newest rows the timeline
    /// shows (and fill a table nothing prunes). At most 60 per login role per hour: the rest are
    /// refused (54000) and store nothing; the operator's action stays on the list, and another
    /// role still marks.
    @Test func aProducerCannotFloodTheTimeline() throws {
        try TestDatabase.with { db in
            let admin = try db.connect()
            defer { admin.close() }
            try seedDeadLetters(admin, 1, queue: "emails", type: "smtp")
            _ = try QueueConfigStore(connection: admin).pause("emails")
            try db.withLoginRole(in: "queuetop_producer") { config, role in
                let conn = try Connection.connect(config)
                defer { conn.close() }
                var stored = 0
                var refusals: [String?] = []
                for n in 1...100 {
                    do {
                        _ = try conn.query("SELECT id FROM \(qt: "mark_event")(\("spam \(n)"), 'deploy')")
                        stored += 1
                    } catch let error as PostgresError {
                        refusals.append(error.sqlState)
                    }
                }
                #expect(stored == 60)
                #expect(refusals.count == 40 && refusals.allSatisfy { $0 == "54000" })
                #expect(try admin.query("SELECT count(*)::int FROM \(qt: "timeline_marks") WHERE db_role = \(role)").scalar(Int.self) == 60)
            }
            let newest = try TimelineStore(connection: admin).list(since: Date().addingTimeInterval(-3600), limit: 100)
            #expect(newest.contains { $0.event == "queue.pause" }, "the operator's action was pushed off the timeline")
            #expect(try TimelineStore(connection: admin).mark("deploy v43").label == "deploy v43")
        }
    }
}

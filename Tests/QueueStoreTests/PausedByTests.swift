import Foundation
import Postgres
@testable import QueueStore
import TestSupport
import Testing

/// A paused queue says who paused it and when (0032, walk3 item 1): the trigger on `queues` keeps
/// paused_by and paused_at whichever way the queue was paused, nobody can write them by hand,
/// resuming clears them, and the health snapshot carries both.
@Suite struct PausedByTests {
    struct Pause: Equatable { var by: String?; var at: Date? }

    static func pause(_ conn: Connection, _ queue: String) throws -> Pause {
        let row = try #require(try conn.query("SELECT paused_by, paused_at FROM queues WHERE name = \(queue)").first)
        return Pause(by: try row.decode("paused_by"), at: try row.decode("paused_at"))
    }

    @Test func everyWayOfPausingSaysWhoAndWhenAndResumingForgets() throws {
        try TestDatabase.with { db in
            let admin = try db.connect()
            defer { admin.close() }
            try admin.executeScript("SELECT enqueue_job('emails', 'send'); SELECT enqueue_job('reports', 'build')")
            let owner = try admin.query("SELECT session_user::text").scalar(String.self)
            #expect(try Self.pause(admin, "emails") == Pause(by: nil, at: nil))

            try db.withLoginRole(in: "queuetop_operator") { _, role in
                let op = try Connection.connect(db.sqlConfig.overriding("user", role))
                defer { op.close() }
                try op.query("SELECT pause_queue('emails')")
                let paused = try Self.pause(admin, "emails")
                #expect(paused.by == role, "the operator's login role: \(paused)")
                let now = try admin.query("SELECT now()").scalar(Date.self)
                #expect(paused.at.map { abs($0.timeIntervalSince(now)) < 60 } == true, "\(paused)")

                // The snapshot the dashboard and `status --json` read carries both.
                let q = try #require(try HealthStore(connection: admin).snapshot().snapshot.queue(named: "emails"))
                #expect(q.paused && q.pausedBy == role && q.pausedAt != nil, "\(q.pausedBy ?? "nil")")
                let json = try HealthStore(connection: admin).snapshotJSON()
                #expect(json.contains(#""paused_by": "\#(role)""#) && json.contains(#""paused_at": "20"#), "\(json.prefix(400))")

                // A second pause, by someone else, does not rename who stopped the queue; nor
                // can the owner write the columns by hand.
                try admin.query("SELECT pause_queue('emails')")
                try admin.query("UPDATE queues SET paused_by = 'mallory', paused_at = now() - interval '9 days' WHERE name = 'emails'")
                #expect(try Self.pause(admin, "emails") == paused)

                // A viewer may not pause or resume, and changes nothing trying.
                try db.withLoginRole(in: "queuetop_viewer") { _, viewerRole in
                    let viewer = try Connection.connect(db.sqlConfig.overriding("user", viewerRole))
                    defer { viewer.close() }
                    #expect(throws: (any Error).self) { try viewer.query("SELECT resume_queue('emails')") }
                    #expect(throws: (any Error).self) { try viewer.query("UPDATE queues SET paused_by = 'viewer' WHERE name = 'emails'") }
                }
                #expect(try Self.pause(admin, "emails") == paused)

                // Resuming forgets; the snapshot says nothing of a pause any more.
                try op.query("SELECT resume_queue('emails')")
                #expect(try Self.pause(admin, "emails") == Pause(by: nil, at: nil))
                let resumed = try #require(try HealthStore(connection: admin).snapshot().snapshot.queue(named: "emails"))
                #expect(!resumed.paused && resumed.pausedBy == nil && resumed.pausedAt == nil)
            }

            // A settings change with "paused": true is a pause too (the demo pauses this way),
            // and a queue created paused names its creator.
            try admin.query(#"SELECT update_queue_settings('reports', '{"paused": true}')"#)
            #expect(try Self.pause(admin, "reports").by == owner)
            try admin.query(#"SELECT update_queue_settings('reports', '{"paused": null}')"#)
            #expect(try Self.pause(admin, "reports") == Pause(by: nil, at: nil))
            try admin.query("INSERT INTO queues (name, paused) VALUES ('created-paused', true)")
            #expect(try Self.pause(admin, "created-paused").by == owner)
        }
    }

    /// Queues paused before 0032 take who and when from their latest pause in the audit log,
    /// through the real runner: a database of 0031's layout (no columns, no trigger), 0032's
    /// record removed, `migrate` applying it again.
    @Test func anUpgradeFindsWhoPausedInTheAuditLog() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                SELECT enqueue_job('old', 'x'); SELECT enqueue_job('settings', 'x'); SELECT enqueue_job('unknown', 'x');
                SELECT enqueue_job('running', 'x');
                DROP TRIGGER queues_paused_by ON queues;
                ALTER TABLE queues DROP COLUMN paused_by, DROP COLUMN paused_at;
                UPDATE queues SET paused = (name <> 'running');
                INSERT INTO audit_log (at, db_role, actor, action, filter, affected) VALUES
                  (now() - interval '2 hours', 'ana', 'ana', 'queue.pause', '{"queue": "old"}', 1),
                  (now() - interval '90 minutes', 'bruno', 'bruno', 'queue.pause', '{"queue": "old"}', 1),
                  (now() - interval '3 hours', 'carla', 'carla', 'queue.settings', '{"queue": "settings", "settings": {"paused": true}}', 1),
                  (now() - interval '1 hour', 'dan', 'dan', 'queue.settings', '{"queue": "settings", "settings": {"max_attempts": 2}}', 1),
                  (now() - interval '1 hour', 'erin', 'erin', 'queue.pause', '{"queue": "running"}', 1);
                DELETE FROM schema_migrations WHERE name = '0032_queue_paused_by.sql';
                """)
            let applied = try MigrationRunner(try MigrationFiles.loadSet()).migrate(on: conn)
            #expect(applied.contains("0032_queue_paused_by.sql"))
            let old = try Self.pause(conn, "old"), settings = try Self.pause(conn, "settings")
            #expect(old.by == "bruno" && settings.by == "carla", "\(old) \(settings)")
            let minutes = try conn.query("SELECT (extract(epoch FROM now() - paused_at) / 60)::int FROM queues WHERE name = 'old'").scalar(Int.self)
            #expect(minutes == 90)
            // No audit row: who is unknown. A queue that runs names nobody.
            #expect(try Self.pause(conn, "unknown") == Pause(by: nil, at: nil))
            #expect(try Self.pause(conn, "running") == Pause(by: nil, at: nil))
            // The trigger is back: the next pause is recorded.
            try conn.query("SELECT resume_queue('old')")
            try conn.query("SELECT pause_queue('old')")
            #expect(try Self.pause(conn, "old").by == (try conn.query("SELECT session_user::text").scalar(String.self)))
        }
    }
}

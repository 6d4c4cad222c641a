import Foundation
import Postgres
import TestSupport
import Testing

/// A permission error names the least of queuetop's roles that may do what was refused: a
/// reader is told to get queuetop_viewer, not sent to ask for operator rights.
@Suite struct RoleHintTests {
    /// `body` gets a conninfo for a fresh login role that is a member of `group`, or of no
    /// queuetop role at all when `group` is nil; the role is dropped afterwards.
    func asLoginRole(_ db: TestDatabase, in group: String?, _ body: (String) throws -> Void) throws {
        if let group {
            try db.withLoginRole(in: group) { config, _ in try body(try config.unredactedConninfo()) }
            return
        }
        let role = "qt_nogroup_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))"
        let admin = try db.connect()
        defer { admin.close() }
        try admin.executeScript("CREATE ROLE \"\(role)\" LOGIN")
        defer {
            _ = try? admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \(role)")
            _ = try? admin.executeScript("DROP ROLE IF EXISTS \"\(role)\"")
        }
        try body(try db.config.overriding("user", role).unredactedConninfo())
    }

    @Test func aReadRefusedToARoleWithoutQueuetopRolesNamesTheViewer() throws {
        try TestDatabase.with { db in
            try asLoginRole(db, in: nil) { conninfo in
                for command in [["queue", "list"], ["dlq", "list"]] {
                    let r = try QueuetopBinary.run(command, environment: ["DATABASE_URL": conninfo])
                    #expect(r.status != 0)
                    #expect(r.stderr.contains("permission denied"), "\(command): \(r.stderr)")
                    #expect(r.stderr.contains("connect as a member of queuetop_viewer"), "\(command): \(r.stderr)")
                    #expect(!r.stderr.contains("queuetop_operator"), "\(command): \(r.stderr)")
                }
            }
        }
    }

    @Test func anActionRefusedToAViewerNamesTheOperatorAndEnqueueNamesTheProducer() throws {
        try TestDatabase.with { db in
            try asLoginRole(db, in: "queuetop_viewer") { conninfo in
                let pause = try QueuetopBinary.run(["queue", "pause", "mail"], environment: ["DATABASE_URL": conninfo])
                #expect(pause.status != 0)
                #expect(pause.stderr.contains("connect as a member of queuetop_operator"), "\(pause.stderr)")
                let enqueue = try QueuetopBinary.run(["enqueue", "mail", "--type", "send"], environment: ["DATABASE_URL": conninfo])
                #expect(enqueue.status != 0)
                #expect(enqueue.stderr.contains("connect as a member of queuetop_producer"), "\(enqueue.stderr)")
            }
        }
    }
}

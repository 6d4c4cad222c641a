import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct NotificationTests {
    @Test func listenReceivesNotifyFromAnotherConnection() throws {
        try TestDatabase.with(migrated: false) { db in
            let listener = try db.connect()
            let sender = try db.connect()
            try listener.listen("queuetop_jobs")
            #expect(try listener.waitForNotifications(timeout: 0.05).isEmpty)
            try sender.notify("queuetop_jobs", payload: "emails")
            var received: [Connection.Notification] = []
            let deadline = Date().addingTimeInterval(5)
            while received.isEmpty && Date() < deadline {
                received += try listener.waitForNotifications(timeout: 1)
            }
            #expect(received.map(\.payload) == ["emails"])
            #expect(received.first?.channel == "queuetop_jobs")
            #expect(received.first?.senderPID == sender.backendPID)
        }
    }

    @Test func terminatedConnectionIsReportedAsLostAndManagedConnectionReconnects() throws {
        try TestDatabase.with(migrated: false) { db in
            let admin = try db.connect()
            let managed = ManagedConnection(config: db.config) { try $0.listen("queuetop_jobs") }
            let firstPID = try managed.run { $0.backendPID }
            try admin.execute("SELECT pg_terminate_backend(\(Int(firstPID)))")
            Thread.sleep(forTimeInterval: 0.2)
            do {
                _ = try managed.run { try $0.query("SELECT 1") }
                Issue.record("a terminated connection answered")
            } catch let error as PostgresError {
                #expect(error.isConnectionProblem)
            }
            // The next call reconnects, and the setup (LISTEN) ran again on the new link.
            let secondPID = try managed.run { $0.backendPID }
            #expect(secondPID != firstPID)
            try admin.notify("queuetop_jobs", payload: "again")
            let got = try managed.run { try $0.waitForNotifications(timeout: 2) }
            #expect(got.map(\.payload) == ["again"])
        }
    }
}

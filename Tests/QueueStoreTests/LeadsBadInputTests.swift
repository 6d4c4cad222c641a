import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Bad input gets an error that says what was wrong, and changes nothing.
@Suite struct LeadsBadInputTests {
    /// Runs `body`, expects it to throw, and checks that no migration, job or audit row appeared.
    private func expectRefused(_ conn: Connection, _ body: () throws -> Void,
                               check: (QueueStoreError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try state(conn)
        do {
            try body()
            Issue.record("expected an error", sourceLocation: sourceLocation)
        } catch let error as QueueStoreError {
            #expect(check(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
        }
        #expect(try state(conn) == before, "nothing may change on error", sourceLocation: sourceLocation)
    }

    private func state(_ conn: Connection) throws -> [Int] {
        [try rowCount(conn, "bulk_operations"), try rowCount(conn, "job_queue"),
         try rowCount(conn, "audit_log"),
         try conn.query("SELECT count(*) FROM leads WHERE moved_at IS NOT NULL").scalar()]
    }

    @Test func queueRefusesUnknownOrMismatchedTargets() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            let f = try LeadsFixture.make(on: conn, leads: 20)
            let store = LeadMigrationStore(connection: conn)
            let nowhere = UUID()

            try expectRefused(conn, { _ = try store.queue(run: nowhere, funnel: f.funnel, column: f.column) }) {
                if case .notFound(let m) = $0 { return m.contains("unknown extraction run \(nowhere.uuidString.lowercased())") }
                return false
            }
            try expectRefused(conn, { _ = try store.queue(run: f.run, funnel: nowhere, column: f.column) }) {
                if case .notFound(let m) = $0 { return m.contains("unknown funnel") }
                return false
            }
            try expectRefused(conn, { _ = try store.queue(run: f.run, funnel: f.funnel, column: nowhere) }) {
                if case .notFound(let m) = $0 { return m.contains("unknown funnel column") }
                return false
            }
            try expectRefused(conn, { _ = try store.queue(run: f.run, funnel: f.funnel, column: f.otherColumn) }) {
                if case .invalidInput(let m) = $0 { return m.contains("belongs to funnel \(f.otherFunnel.uuidString.lowercased())") }
                return false
            }
        }
    }

    @Test(arguments: [0, -1, 100_001])
    func queueRefusesBatchSizesOutOfRange(size: Int) throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            let f = try LeadsFixture.make(on: conn, leads: 5)
            let store = LeadMigrationStore(connection: conn)
            try expectRefused(conn, { _ = try store.queue(run: f.run, funnel: f.funnel, column: f.column, batchSize: size) }) {
                if case .invalidInput(let m) = $0 { return m.contains("batch size must be between 1 and 100000") }
                return false
            }
            try expectRefused(conn, { _ = try store.processNextBatch(batchSize: size) }) {
                if case .invalidInput = $0 { return true }
                return false
            }
        }
    }

    @Test func aSecondMigrationOfTheSameRunToAnotherColumnIsAConflict() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            let f = try LeadsFixture.make(on: conn, leads: 5)
            let store = LeadMigrationStore(connection: conn)
            _ = try store.queue(run: f.run, funnel: f.funnel, column: f.column)
            try expectRefused(conn, { _ = try store.queue(run: f.run, funnel: f.otherFunnel, column: f.otherColumn) }) {
                if case .conflict(let m) = $0 { return m.contains("already has a lead migration in progress") && m.contains("cancel_lead_migration") }
                return false
            }
        }
    }

    @Test func cancelOfAnUnknownRunIsAnError() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            _ = try LeadsFixture.make(on: conn, leads: 5)
            let nowhere = UUID()
            try expectRefused(conn, { _ = try LeadMigrationStore(connection: conn).cancel(run: nowhere) }) {
                if case .notFound(let m) = $0 { return m.contains(nowhere.uuidString.lowercased()) }
                return false
            }
        }
    }

    @Test func unknownOperationIsAnError() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            #expect(throws: QueueStoreError.self) { try BulkOperationStore(connection: conn).runBatch(operationID: 424242) }
            #expect(throws: QueueStoreError.self) { try BulkOperationStore(connection: conn).cancel(operationID: 424242) }
        }
    }
}

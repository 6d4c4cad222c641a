import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Seed 003's lead migration, against a real PostgreSQL.
@Suite struct LeadsMigrationTests {
    @Test func seedExample992LeadsInBatchesOf100MovesEveryLeadOnce() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            let f = try LeadsFixture.make(on: conn, leads: 992)
            let store = LeadMigrationStore(connection: conn)

            let queued = try store.queue(run: f.run, funnel: f.funnel, column: f.column)
            #expect(queued.message == "Movimentação enfileirada: 992 leads serão movidos")
            #expect(queued.total == 992 && queued.batchSize == 100 && !queued.alreadyQueued)
            #expect(queued.runName == "Restaurantes - 10/12/2025 09:07")

            var batches = 0
            while true {
                let result = try store.runBatch(operationID: queued.operationID)
                if result.rowsDone == 0 { break }
                batches += 1
                let expectedDone = Int64(min(100 * batches, 992))
                #expect(result.rowsDone == (batches < 10 ? 100 : 92))
                #expect(result.done == expectedDone && result.remaining == 992 - expectedDone)
                let p = try #require(try store.progress(operationID: queued.operationID))
                #expect(p.moved == expectedDone && p.remaining == 992 - expectedDone && p.total == 992)
                #expect(p.batches == batches && p.lastBatchAt != nil && p.lastBatchCount == result.rowsDone)
                #expect(p.status == (batches < 10 ? .running : .completed))
                #expect(try f.movedCount(conn) == Int(expectedDone))
            }
            #expect(batches == 10)
            let moves = try f.moveCounts(conn)
            #expect(moves.leads == 992 && moves.maxMoves == 1)
            let done = try #require(try store.progress(operationID: queued.operationID))
            #expect(done.status == .completed && done.finishedAt != nil)
            #expect(try store.queueStatus().totalMessages == 0)
        }
    }

    @Test func queueingEnqueuesAWorkerJobAndAuditsTheAction() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            let f = try LeadsFixture.make(on: conn, leads: 10)
            let store = LeadMigrationStore(connection: conn)
            let queued = try store.queue(run: f.run, funnel: f.funnel, column: f.column, batchSize: 7)

            let job = try conn.query("""
                SELECT queue, job_type, (payload->>'operation_id')::bigint AS op,
                       (payload->>'batch_size')::int AS size, dedup_key
                  FROM job_queue WHERE id = \(try #require(queued.jobID))
                """)[0]
            #expect(try job.decode("queue") == "lead_migrations" && job.decode("job_type") == "lead_migration")
            #expect(try job.decode("op") == queued.operationID && job.decode("size") == 7)
            #expect(try job.decode("dedup_key") == String(queued.operationID))
            let audited: Int = try conn.query("""
                SELECT affected FROM audit_log WHERE action = 'lead_migration.queue'
                """).scalar()
            #expect(audited == 10)

            // The same request again (an RPC retry) returns the same migration, not a second one.
            let again = try store.queue(run: f.run, funnel: f.funnel, column: f.column, batchSize: 7)
            #expect(again.alreadyQueued && again.operationID == queued.operationID)
            #expect(try rowCount(conn, "bulk_operations") == 1 && rowCount(conn, "job_queue") == 1)

            let status = try store.queueStatus()
            #expect(status.queueName == "lead_migration_queue" && status.totalMessages == 1)
            #expect(status.oldestMessage != nil && status.pending == 1 && status.leadsRemaining == 10)
        }
    }

    @Test func cancelMidwayStopsCleanlyAndMovedLeadsStayMoved() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            let f = try LeadsFixture.make(on: conn, leads: 992)
            let store = LeadMigrationStore(connection: conn)
            let op = try store.queue(run: f.run, funnel: f.funnel, column: f.column).operationID
            for _ in 0..<3 { try store.runBatch(operationID: op) }

            let cancel = try store.cancel(run: f.run)
            #expect(cancel.cancelled == 1 && cancel.operationIDs == [op])
            #expect(cancel.leadsMoved == 300 && cancel.leadsNotMoved == 692)

            // No further batches: direct, "next" and RPC processing all do nothing.
            let after = try store.runBatch(operationID: op)
            #expect(after.rowsDone == 0 && after.status == .cancelled)
            #expect(try store.processNextBatch().operationID == nil)
            #expect(try f.movedCount(conn) == 300)
            #expect(try f.moveCounts(conn).maxMoves == 1)
            let p = try #require(try store.progress(operationID: op))
            #expect(p.status == .cancelled && p.moved == 300 && p.remaining == 692 && p.batches == 3)
            #expect(p.cancelledAt != nil)
            // Its worker job is cancelled too, so no worker claims it for nothing.
            let jobStatus: String = try conn.query("""
                SELECT status FROM job_queue WHERE queue = 'lead_migrations' AND dedup_key = \(String(op))
                """).scalar()
            #expect(jobStatus == "cancelled")

            // Cancelling again is harmless and says so.
            let again = try store.cancel(run: f.run)
            #expect(again.cancelled == 0 && again.operationIDs.isEmpty)
            let audits: [Int] = try conn.query("""
                SELECT affected FROM audit_log WHERE action = 'lead_migration.cancel' ORDER BY id
                """).map { try $0.decode(0) }
            #expect(audits == [1, 0])
        }
    }

    @Test func cancelWaitsForTheBatchInFlight() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            let f = try LeadsFixture.make(on: conn, leads: 500)
            let op = try LeadMigrationStore(connection: conn).queue(run: f.run, funnel: f.funnel, column: f.column).operationID

            // A batch in flight: its transaction holds the operation's row lock.
            try conn.execute("BEGIN")
            try conn.execute("SELECT run_bulk_operation_batch(\(op))")
            let canceller = try db.connect()
            // Read now: once the canceller blocks inside a query, its connection lock is held.
            let cancellerPID = Int(canceller.backendPID)
            let observer = try db.connect()
            let run = f.run
            let finished = Locked<LeadMigrationCancellation?>(nil)
            let thread = Thread { finished.value = try? LeadMigrationStore(connection: canceller).cancel(run: run) }
            thread.start()
            // The canceller's backend must be waiting on the operation's row lock.
            var waiting = false
            for _ in 0..<100 where !waiting {
                // Another connection: statistics views are a snapshot within a transaction.
                waiting = try observer.query("""
                    SELECT count(*) = 1 FROM pg_stat_activity
                     WHERE pid = \(cancellerPID) AND wait_event_type = 'Lock'
                    """).scalar()
                if !waiting { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(waiting && finished.value == nil, "cancel must wait for the batch in flight")
            try conn.execute("COMMIT")
            let result = try finished.wait(timeout: 10)
            #expect(result?.cancelled == 1 && result?.leadsMoved == 100)
            #expect(try f.movedCount(conn) == 100)
        }
    }

    @Test func twoProcessorsNeverMoveALeadTwice() throws {
        try TestDatabase.with { db in
            let setup = try db.connect()
            let f = try LeadsFixture.make(on: setup, leads: 992)
            let op = try LeadMigrationStore(connection: setup)
                .queue(run: f.run, funnel: f.funnel, column: f.column, batchSize: 25).operationID
            let group = DispatchGroup()
            let errors = Locked<[String]>([])
            // Two processors per path: driving this operation (waits on its row lock), and the
            // seed's "next batch" RPC (SKIP LOCKED: skips it while another batch is in flight).
            for processor in 0..<4 {
                let conn = try db.connect()
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        let store = LeadMigrationStore(connection: conn)
                        if processor % 2 == 0 {
                            try store.runUntilDone(operationID: op)
                        } else {
                            while try store.progress(operationID: op)?.status.isActive == true {
                                _ = try store.processNextBatch(batchSize: nil)
                            }
                        }
                    } catch {
                        errors.update { $0.append("\(error)") }
                    }
                }.start()
            }
            #expect(group.wait(timeout: .now() + 60) == .success)
            #expect(errors.value.isEmpty)
            let moves = try f.moveCounts(setup)
            #expect(moves.leads == 992 && moves.maxMoves == 1)
            let p = try #require(try LeadMigrationStore(connection: setup).progress(operationID: op))
            #expect(p.status == .completed && p.moved == 992 && p.remaining == 0)
        }
    }

    @Test func parallelProcessorsTakeDifferentMigrations() throws {
        try TestDatabase.with { db in
            let setup = try db.connect()
            let a = try LeadsFixture.make(on: setup, leads: 300, runName: "A")
            let b = try LeadsFixture.make(on: setup, leads: 300, runName: "B")
            let store = LeadMigrationStore(connection: setup)
            let opA = try store.queue(run: a.run, funnel: a.funnel, column: a.column).operationID
            let opB = try store.queue(run: b.run, funnel: b.funnel, column: b.column).operationID

            // One processor holds migration A's row lock mid-batch; the next processor skips it.
            let holder = try db.connect()
            try holder.execute("BEGIN")
            try holder.execute("SELECT run_bulk_operation_batch(\(opA))")
            let other = try LeadMigrationStore(connection: db.connect()).processNextBatch()
            #expect(other.operationID == opB && other.leadsMoved == 100 && other.success)
            #expect(other.message == "Batch processado: 100 leads movidos, 200 restantes")
            try holder.execute("COMMIT")

            var seen: [Int64] = []
            while let id = try store.processNextBatch().operationID { seen.append(id) }
            #expect(Set(seen) == [opA, opB])
            #expect(try a.movedCount(setup) == 300 && b.movedCount(setup) == 300)
            #expect(try a.moveCounts(setup).maxMoves == 1)
        }
    }

    @Test func leadsLockedByOthersAreSweptUpAtTheEnd() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            let f = try LeadsFixture.make(on: conn, leads: 250)
            let store = LeadMigrationStore(connection: conn)
            let op = try store.queue(run: f.run, funnel: f.funnel, column: f.column).operationID

            // An app holds 5 leads from the middle of the run in an open transaction. (Not
            // OFFSET … FOR UPDATE directly: that would lock the 120 rows it skips, too.)
            let app = try db.connect()
            try app.execute("BEGIN")
            try app.execute("""
                SELECT id FROM leads WHERE id IN (
                    SELECT id FROM leads WHERE run_id = \(f.run) ORDER BY id OFFSET 120 LIMIT 5)
                FOR UPDATE
                """)
            for _ in 0..<4 { try store.runBatch(operationID: op) }
            let blocked = try #require(try store.progress(operationID: op))
            #expect(blocked.status == .running && blocked.moved == 245 && blocked.remaining == 5)

            try app.execute("COMMIT")
            let last = try store.runBatch(operationID: op)
            #expect(last.rowsDone == 5 && last.status == .completed && last.done == 250)
            let moves = try f.moveCounts(conn)
            #expect(moves.leads == 250 && moves.maxMoves == 1)
        }
    }
}

/// A value shared with a helper thread.
final class Locked<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var stored: Value
    private var set = false
    init(_ value: Value) { stored = value }

    var value: Value {
        get { condition.withLock { stored } }
        set { condition.withLock { stored = newValue; set = true; condition.broadcast() } }
    }

    func update(_ body: (inout Value) -> Void) { condition.withLock { body(&stored) } }

    /// Waits until a value has been set (or the timeout passes) and returns it.
    func wait(timeout: TimeInterval) throws -> Value {
        condition.withLock {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while !set && condition.wait(until: deadline) {}
            return stored
        }
    }
}

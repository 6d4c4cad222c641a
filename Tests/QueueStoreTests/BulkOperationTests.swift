import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The batched-operation mechanism is general: a kind registered here, with nothing but a step
/// function and one registry row, gets batches, progress, completion, cancel and failure handling.
@Suite struct BulkOperationTests {
    /// Kind 'counter': counts up to params.target, at most batch_size per batch, into tally.
    /// params.fail_at makes the step raise once the count reaches it.
    private func registerCounter(_ conn: Connection) throws {
        try conn.executeScript("""
            CREATE TABLE tally (n bigint NOT NULL);
            INSERT INTO tally VALUES (0);
            CREATE FUNCTION counter_step(op bulk_operations, batch_size int) RETURNS bulk_step_result
            LANGUAGE plpgsql AS $$
            DECLARE
                v_at   bigint := coalesce((op.cursor->>'at')::bigint, 0);
                v_step bigint := least(batch_size, (op.params->>'target')::bigint - v_at);
            BEGIN
                IF v_at >= (op.params->>'fail_at')::bigint THEN
                    UPDATE tally SET n = -1;  -- must be rolled back with the failed batch
                    RAISE EXCEPTION 'counter broke at %', v_at;
                END IF;
                UPDATE tally SET n = n + v_step;
                RETURN (v_step, jsonb_build_object('at', v_at + v_step),
                        v_at + v_step >= (op.params->>'target')::bigint)::bulk_step_result;
            END $$;
            INSERT INTO bulk_operation_kinds (kind, step_function, description)
            VALUES ('counter', 'counter_step', 'test kind');
            """)
    }

    private func createCounter(_ conn: Connection, target: Int, batchSize: Int, failAt: Int? = nil) throws -> Int64 {
        try conn.query("""
            INSERT INTO bulk_operations (kind, params, total, batch_size)
            VALUES ('counter', jsonb_build_object('target', \(target)::int, 'fail_at', \(failAt)::int),
                    \(target)::int, \(batchSize)::int)
            RETURNING id
            """).scalar()
    }

    @Test func aSecondKindRunsThroughTheSameMechanism() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            try registerCounter(conn)
            let store = BulkOperationStore(connection: conn)
            let op = try createCounter(conn, target: 25, batchSize: 10)

            var seen: [BulkBatchResult] = []
            let last = try store.runUntilDone(operationID: op) { seen.append($0); return true }
            #expect(seen.map(\.rowsDone) == [10, 10, 5])
            #expect(seen.map(\.remaining) == [15, 5, 0])
            #expect(last.status == .completed && last.done == 25 && last.kind == "counter")
            #expect(try conn.query("SELECT n FROM tally").scalar(Int.self) == 25)
            let info = try #require(try store.operation(id: op))
            #expect(info.batches == 3 && info.finishedAt != nil && info.startedAt != nil)
            // A finished operation does nothing more.
            #expect(try store.runBatch(operationID: op).rowsDone == 0)
            #expect(try store.runNextBatch(kind: "counter") == nil)
        }
    }

    @Test func cancelAndNextBatchWorkForAnyKind() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            try registerCounter(conn)
            let store = BulkOperationStore(connection: conn)
            let op = try createCounter(conn, target: 100, batchSize: 10)
            let first = try #require(try store.runNextBatch(kind: "counter"))
            #expect(first.operationID == op && first.rowsDone == 10)
            #expect(try store.cancel(operationID: op))
            #expect(try store.cancel(operationID: op) == false)
            #expect(try store.runBatch(operationID: op).status == .cancelled)
            #expect(try store.runNextBatch() == nil)
            #expect(try conn.query("SELECT n FROM tally").scalar(Int.self) == 10)
            let audited: [Int] = try conn.query("""
                SELECT affected FROM audit_log WHERE action = 'bulk_operation.cancel' ORDER BY id
                """).map { try $0.decode(0) }
            #expect(audited == [1, 0])
        }
    }

    @Test func aFailingStepMarksTheOperationFailedAndRollsBackItsBatch() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            try registerCounter(conn)
            let store = BulkOperationStore(connection: conn)
            let op = try createCounter(conn, target: 50, batchSize: 10, failAt: 20)
            let last = try store.runUntilDone(operationID: op)
            #expect(last.status == .failed && last.done == 20)
            let info = try #require(try store.operation(id: op))
            #expect(info.error?.contains("counter broke at 20") == true)
            #expect(try conn.query("SELECT n FROM tally").scalar(Int.self) == 20)
        }
    }

    @Test func aStepFunctionWithTheWrongSignatureIsRefusedAtRegistration() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            try conn.executeScript("CREATE FUNCTION not_a_step(x int) RETURNS int LANGUAGE sql AS 'SELECT x'")
            #expect {
                try conn.execute("INSERT INTO bulk_operation_kinds (kind, step_function) VALUES ('bad', 'not_a_step')")
            } throws: { error in
                (error as? PostgresError)?.sqlState == "42P13"
                    && (error as? PostgresError)?.message.contains("wrong signature") == true
            }
        }
    }
}

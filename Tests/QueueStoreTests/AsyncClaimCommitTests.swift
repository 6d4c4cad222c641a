import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// claim_jobs commits without waiting for its own WAL flush (synchronous_commit = off for the
/// claim's transaction only); everything else keeps the caller's durability, and a claim lost
/// in a server crash is harmless: the jobs are pending again, the losing worker can finish
/// nothing, and each job completes exactly once (docs/WORKERS.md "The window").
///
/// The test clusters run with synchronous_commit = off (scripts/pg --fast), so every session
/// here sets it to `on` first, as a durable server has it.
@Suite struct AsyncClaimCommitTests {
    static func durableSession(_ db: TestDatabase) throws -> Connection {
        let conn = try db.connect()
        try conn.executeScript("SET synchronous_commit = on")
        return conn
    }

    static func setting(_ conn: Connection) throws -> String {
        try conn.query("SELECT current_setting('synchronous_commit')").scalar()
    }

    static func status(_ conn: Connection, _ id: UUID) throws -> String {
        try conn.query("SELECT status FROM job_queue WHERE id = \(id)").scalar()
    }

    @Test func theClaimsTransactionCommitsAsynchronouslyAndOnlyThatTransaction() throws {
        try TestDatabase.with { db in
            let conn = try Self.durableSession(db)
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            _ = try jobs.enqueue(NewJob(queue: "sync", type: "t"))
            let seen = try conn.transaction { tx -> String in
                #expect(try JobStore(connection: tx).claim(worker: "w", queues: ["sync"], max: 10).count == 1)
                return try Self.setting(tx)
            }
            #expect(seen == "off", "the claim's commit waits for its WAL flush")
            // Local to that transaction: the session, and the next transaction, are durable again.
            #expect(try Self.setting(conn) == "on")
            // A claim that found nothing, a limited queue's claim and a tenant-capped one take
            // the same path out.
            try conn.executeScript("""
                INSERT INTO queues (name, concurrency_limit) VALUES ('capped', 5);
                INSERT INTO queues (name, tenant_concurrency_limit) VALUES ('tenants', 1)
                """)
            _ = try jobs.enqueue([NewJob(queue: "capped", type: "t"), NewJob(queue: "tenants", type: "t", tenant: "a")])
            for queues in [["nothing-here"], ["capped"], ["tenants"]] {
                let inside = try conn.transaction { tx -> String in
                    _ = try JobStore(connection: tx).claim(worker: "w", queues: queues, max: 10)
                    return try Self.setting(tx)
                }
                #expect(inside == "off", "claim of \(queues)")
            }
        }
    }

    @Test func enqueueCompleteFailAndTheOtherWritesKeepTheCallersDurability() throws {
        try TestDatabase.with { db in
            let conn = try Self.durableSession(db)
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            func durable(_ what: String, _ body: (JobStore) throws -> Void) throws {
                let inside = try conn.transaction { tx -> String in
                    try body(JobStore(connection: tx))
                    return try Self.setting(tx)
                }
                #expect(inside == "on", "\(what) changed synchronous_commit")
            }
            try durable("enqueue") { _ = try $0.enqueue((0..<4).map { _ in NewJob(queue: "q", type: "t", maxAttempts: 1) }) }
            let claimed = try jobs.claim(worker: "w", queues: ["q"], max: 4).map(\.id)
            try #require(claimed.count == 4)
            try durable("heartbeat") { store in let n = try store.heartbeat(worker: "w", ids: claimed); #expect(n == 4) }
            try durable("complete") { store in let n = try store.complete(worker: "w", ids: [claimed[0]]); #expect(n == 1) }
            try durable("fail") { store in
                let n = try store.fail(worker: "w", [JobFailure(id: claimed[1], message: "x", errorType: "e")]); #expect(n == 1)
            }
            try durable("release") { store in let n = try store.release(worker: "w", ids: [claimed[2]]); #expect(n == 1) }
            try durable("rescue") { _ = try $0.rescueStale() }
            try durable("cancel") { _ = try $0.cancel(id: claimed[2].uuid) }
            let dead: UUID = claimed[1].uuid
            #expect(try Self.status(conn, dead) == "dead_letter")
            let requeue = try conn.transaction { tx -> String in
                try DLQStore(connection: tx).requeue(id: dead)
                return try Self.setting(tx)
            }
            #expect(requeue == "on", "DLQ requeue changed synchronous_commit")

            // And by construction: no function but claim_jobs touches synchronous_commit, in
            // its body or as a SET clause, so a new write path cannot start committing
            // asynchronously unseen.
            let touching: [String] = try conn.query("""
                SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema()
                  AND (p.prosrc ILIKE '%synchronous_commit%'
                       OR array_to_string(p.proconfig, ',') ILIKE '%synchronous_commit%')
                ORDER BY 1
                """).map { try $0.decode(0) }
            #expect(touching == ["claim_jobs(text,text[],integer)"])
        }
    }

    /// A server crash before the claim's WAL reached disk undoes the claim: simulated here by
    /// rolling the claim's transaction back after the worker has read its jobs.
    @Test func aLostClaimLeavesTheJobPendingTheLoserFinishesNothingAndItCompletesOnce() throws {
        try TestDatabase.with { db in
            let conn = try Self.durableSession(db)
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let id = try jobs.enqueue(NewJob(queue: "lost", type: "t")).id
            try conn.executeScript("BEGIN")
            let lost = try jobs.claim(worker: "w1", queues: ["lost"], max: 1)
            try conn.executeScript("ROLLBACK")
            try #require(lost.map(\.id.uuid) == [id])
            #expect(try Self.status(conn, id) == "pending")

            // The original worker's calls for the lost claim change nothing.
            #expect(try jobs.heartbeat(worker: "w1", ids: lost.map(\.id)) == 0)
            #expect(try jobs.complete(worker: "w1", ids: lost.map(\.id)) == 0)
            #expect(try jobs.fail(worker: "w1", [JobFailure(id: lost[0].id, message: "x", errorType: "e")]) == 0)
            #expect(try jobs.release(worker: "w1", ids: lost.map(\.id)) == 0)
            #expect(try Self.status(conn, id) == "pending")
            let attempts: Int = try conn.query("SELECT attempt_count FROM job_queue WHERE id = \(id)").scalar()
            #expect(attempts == 0)

            // Claimable again; the loser cannot complete the new owner's claim; the new owner
            // completes it once, and nothing claims it after.
            let again = try jobs.claim(worker: "w2", queues: ["lost"], max: 1)
            #expect(again.map(\.id.uuid) == [id])
            #expect(try jobs.complete(worker: "w1", ids: lost.map(\.id)) == 0)
            #expect(try jobs.fail(worker: "w1", [JobFailure(id: lost[0].id, message: "x", errorType: "e")]) == 0)
            #expect(try Self.status(conn, id) == "processing")
            #expect(try jobs.complete(worker: "w2", ids: again.map(\.id)) == 1)
            #expect(try jobs.complete(worker: "w2", ids: again.map(\.id)) == 0)
            #expect(try Self.status(conn, id) == "completed")
            #expect(try jobs.claim(worker: "w3", queues: ["lost"], max: 1).isEmpty)
        }
    }
}

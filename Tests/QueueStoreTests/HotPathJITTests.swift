import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The worker's and producer's functions never JIT-compile their statements. At 10 M rows the
/// planner prices a claim of 100 jobs like a read of the queue's whole backlog (its arguments
/// are parameters), which is far above `jit_above_cost`, and PostgreSQL then spent 0.3-1.1 s of
/// LLVM compile on every claim whose execution took ~17 ms (docs/BENCHMARKS.md "Job explorer").
/// Here every statement is priced above JIT's thresholds (`jit_*_above_cost = 0`), as at that
/// size, and auto_explain reports each statement the functions run, JIT or not.
@Suite struct HotPathJITTests {
    /// auto_explain's reports of the statements run inside queuetop's functions: the client's
    /// own statements name the schema (`"queuetop".`), function bodies never do.
    final class Plans: @unchecked Sendable {
        private let lock = NSLock()
        private var texts: [String] = []
        func add(_ text: String) { lock.withLock { texts.append(text) } }
        var nested: [String] { lock.withLock { texts.filter { !$0.contains("\"queuetop\".") } } }
        var all: [String] { lock.withLock { texts } }
    }

    @Test func claimCompleteFailAndFriendsRunWithoutJITWhereEveryStatementWouldGetIt() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let plans = Plans()
            Notices.setHandler { notice in
                if notice.message.contains("Query Text:") { plans.add(notice.message) } else { Notices.standardError(notice) }
            }
            defer { Notices.setHandler(Notices.standardError) }
            try conn.executeScript("""
                SET jit = on; SET jit_above_cost = 0; SET jit_inline_above_cost = 0; SET jit_optimize_above_cost = 0;
                LOAD 'auto_explain';
                SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
                SET auto_explain.log_analyze = on; SET auto_explain.log_level = notice; SET client_min_messages = notice;
                """)
            // The control: a plain statement of this session is JIT-compiled, so JIT is
            // available on this server and the settings above force it.
            _ = try conn.query("SELECT count(*) FROM \"queuetop\".job_queue WHERE payload ? 'x'")
            try #require(plans.all.contains { $0.contains("JIT:") },
                         "this server cannot JIT (no llvmjit): the test cannot tell anything")

            let jobs = JobStore(connection: conn)
            _ = try jobs.enqueue((0..<30).map { i in NewJob(queue: "jit", type: "t", payload: JSONText("{\"n\": \(i)}"), tenant: "a") })
            let claimed = try jobs.claim(worker: "w", queues: ["jit"], max: 30)
            #expect(claimed.count == 30)
            let ids = claimed.map(\.id)
            #expect(try jobs.heartbeat(worker: "w", ids: Array(ids[0..<10])) == 10)
            #expect(try jobs.complete(worker: "w", ids: Array(ids[0..<10])) == 10)
            #expect(try jobs.fail(worker: "w", ids[10..<20].map { JobFailure(id: $0, message: "boom", errorType: "e") }) == 10)
            #expect(try jobs.release(worker: "w", ids: Array(ids[20..<30])) == 10)
            _ = try jobs.rescueStale()
            _ = try jobs.expire()

            let nested = plans.nested
            // auto_explain saw the functions' own statements (the claim's UPDATE, the trigger's
            // INSERTs), and none of them was compiled.
            #expect(nested.contains { $0.contains("update job_queue j") })
            #expect(nested.contains { $0.contains("queue_count_deltas") })
            let compiled = nested.filter { $0.contains("JIT:") }
            #expect(compiled.isEmpty, "JIT-compiled inside the hot path:\n\(compiled.joined(separator: "\n---\n"))")
        }
    }
}

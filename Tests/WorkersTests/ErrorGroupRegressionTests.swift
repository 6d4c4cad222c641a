import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

/// Issue 22 item 2: a resolved error group that fails again is marked regressed and fires the
/// alert hooks once: exactly one POST reaches a loopback receiver, however many failures follow
/// and however many delivery rounds run.
@Suite struct ErrorGroupRegressionTests {
    @Test func aRegressedGroupIsDeliveredExactlyOnce() throws {
        let receiver = try LoopbackHTTPServer()
        defer { receiver.shutdown() }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try AlertHookStore(connection: conn).add(name: "ops", url: receiver.url("/ok").absoluteString)
            let jobs = JobStore(connection: conn)
            func fail(_ message: String) throws {
                let id = try jobs.enqueue(NewJob(queue: "orders", type: "ship")).id
                try jobs.failJob(id: id, message: message, errorType: "timeout", retryable: false)
            }
            try fail("timeout after 30012 ms for order 81723")
            let group = try #require(try DLQStore(connection: conn).groups().first)
            try TriageStore(connection: conn).resolve(ErrorGroupRef(queue: group.queue, fingerprint: group.fingerprint))
            let deliverer = AlertDeliverer(minSyncInterval: 0)
            for _ in 0..<2 { _ = try deliverer.round(conn) }
            #expect(receiver.requests.isEmpty)

            // It fails again, three times.
            for n in 0..<3 { try fail("timeout after \(29_000 + n) ms for order \(n)") }
            for _ in 0..<4 { _ = try deliverer.round(conn) }
            let regressions = receiver.bodies.compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }.filter { $0["kind"] as? String == "error_group_regressed" }
            #expect(regressions.count == 1)
            #expect(regressions.first?["queue"] as? String == "orders")
            #expect(regressions.first?["fingerprint"] as? String == group.fingerprint)
            #expect(regressions.first?["pattern"] as? String == "timeout after <n> ms for order <n>")
            #expect(try DLQStore(connection: conn).groups().first?.lifecycle.state == .regressed)
        }
    }
}

@testable import DashboardRuntime
import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Through the dashboard's database thread: the refresh brings no per-type figures, queue
/// detail's own read brings its queue's, the same the whole snapshot shows.
@Suite struct QueueTypesEffectTests {
    let types: (Message) -> (String, [TypeHealth]?)? = { if case .queueTypesLoaded(let q, let t) = $0 { (q, t) } else { nil } }
    let snapshot: (Message) -> HealthSnapshot? = { if case .snapshotLoaded(let s, _) = $0 { s } else { nil } }

    @Test func theRefreshBringsNoTypesAndQueueDetailBringsItsQueues() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                SELECT enqueue_job(format('q%s', q), format('t%s', k), '{}') FROM generate_series(1, 2) q, generate_series(1, 3) k;
                SELECT count(*) FROM claim_jobs('w', ARRAY['q1', 'q2'], 100);
                SELECT complete_jobs('w', array_agg(id), array_agg(9)) FROM job_queue WHERE locked_by = 'w';
                """)
            let harness = RunnerHarness(db.config)
            let refreshed = try #require(harness.post([.refresh], until: snapshot))
            #expect(refreshed.queues.map(\.name) == ["q1", "q2"] && refreshed.queues.allSatisfy { $0.types == nil })
            let (queue, loaded) = try #require(harness.post([.loadQueueTypes("q2")], until: types))
            #expect(queue == "q2")
            let whole = try HealthStore(connection: conn).snapshot().snapshot.queue(named: "q2")?.types
            #expect(loaded == whole && loaded?.map(\.type) == ["t1", "t2", "t3"])
            let (_, gone) = try #require(harness.post([.loadQueueTypes("gone")], until: types))
            #expect(gone == nil)
        }
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Per-type figures are read only where they are shown (docs/HEALTH.md, "Per-type figures"):
/// the overview refresh every dashboard pays touches no per-type rollup, queue detail reads its
/// one queue's, and `status --json` keeps every queue's, each equal to plain SQL.
@Suite struct PerTypeReadsTests {
    /// Scans of the per-type rollups by this transaction so far (pg_stat_xact_user_tables:
    /// sequential and index scans, counted as they start, flushed or not).
    static func perTypeScans(_ tx: Connection) throws -> Int64 {
        try tx.query("""
            SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)::bigint FROM pg_stat_xact_user_tables
            WHERE relid IN ('queue_type_recent'::regclass, 'queue_type_minute'::regclass)
            """).scalar()
    }

    /// `mixed` (PerTypeHealthTests.makeMixed) plus `second`, 6 jobs of two types, all folded.
    static func makeTwoQueues(_ conn: Connection) throws {
        try PerTypeHealthTests.makeMixed(conn)
        try conn.executeScript("""
            SELECT enqueue_job('second', format('s%s', k), '{}') FROM generate_series(1, 2) k, generate_series(1, 3) i;
            SELECT count(*) FROM claim_jobs('w9', ARRAY['second'], 100);
            SELECT complete_jobs('w9', array_agg(id), array_agg(11)) FROM job_queue WHERE locked_by = 'w9';
            SELECT health_fold();
            """)
    }

    /// The overview refresh reads no per-type rollup at all: not one scan of queue_type_recent
    /// or queue_type_minute (main's refresh read both through health_breakdown's top types).
    /// It shows the same figures as the whole snapshot, less `types`.
    @Test func theOverviewRefreshReadsNoPerTypeRollup() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeTwoQueues(conn)
            // One transaction: now() stays put, so once the fold below has run the snapshot's own
            // fold finds no minute to slide and no delta; what is counted is the refresh's reads.
            try conn.transaction { tx in
                _ = try tx.query("SELECT health_fold()")
                let before = try Self.perTypeScans(tx)
                let overview = try HealthStore(connection: tx).snapshot(types: .none)
                #expect(try Self.perTypeScans(tx) == before, "the overview refresh scanned a per-type rollup")
                #expect(overview.snapshot.queues.map(\.name) == ["mixed", "second"])
                #expect(overview.snapshot.queues.allSatisfy { $0.types == nil })
                #expect(!overview.json.contains(#""types""#))

                // The control: the whole snapshot does read them, and the counters see it.
                let all = try HealthStore(connection: tx).snapshot(types: .all)
                #expect(try Self.perTypeScans(tx) > before)
                #expect(all.snapshot.queues.allSatisfy { $0.types?.isEmpty == false })
                // Everything else is the same, field for field.
                var withoutTypes = all.snapshot.queues
                for i in withoutTypes.indices { withoutTypes[i].types = nil }
                #expect(withoutTypes == overview.snapshot.queues)
                #expect(all.snapshot.alerts == overview.snapshot.alerts)
            }
        }
    }

    /// The summary all contexts add up (`status --all-contexts`, the all view) needs no types
    /// either, so it reads none.
    @Test func theContextsSummaryReadsNoPerTypeRollup() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeTwoQueues(conn)
            try conn.transaction { tx in
                _ = try tx.query("SELECT health_fold()")
                let before = try Self.perTypeScans(tx)
                let summary = try HealthStore(connection: tx).summary()
                #expect(try Self.perTypeScans(tx) == before)
                #expect(summary.queues.map(\.name) == ["mixed", "second"])
            }
        }
    }

    /// Queue detail (and `queue show`) reads one queue's types: exactly the whole snapshot's for
    /// that queue, equal to plain SQL over the raw rows, and no other queue's.
    @Test func queueDetailReadsItsQueuesTypesAsTheWholeSnapshotShowsThem() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeTwoQueues(conn)
            try conn.transaction { tx in try PerTypeHealthTests.expectTypesMatchRawRows(tx, read: .queue("mixed")) }
            let store = HealthStore(connection: conn)
            let all = try store.snapshot(types: .all).snapshot
            let detail = try store.snapshot(types: .queue("second")).snapshot
            let second = try #require(all.queue(named: "second")?.types)
            #expect(second.map(\.type) == ["s1", "s2"] && second.map(\.completed) == [3, 3] && second.first?.p50 == 11)
            #expect(detail.queue(named: "second")?.types == second)
            #expect(detail.queue(named: "mixed")?.types == nil)
            #expect(try store.queueTypes("mixed") == all.queue(named: "mixed")?.types)
            #expect(try store.queueTypes("second") == second)
            // A queue that does not exist has no figures (not an empty list), and changes nothing.
            #expect(try store.queueTypes("nope") == nil)
            #expect(try store.snapshot(types: .queue("nope")).snapshot.queues.allSatisfy { $0.types == nil })
            // A queue that exists but saw nothing in the hour: an empty list.
            _ = try conn.query("INSERT INTO queues (name) VALUES ('idle')")
            #expect(try store.queueTypes("idle") == [])
        }
    }

    /// A reader that cannot fold (read-only, a standby) gets the same one-queue figures: the
    /// unfolded deltas count, as in the whole snapshot.
    @Test func queueDetailCountsUnfoldedDeltasInAReadOnlyTransaction() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PerTypeHealthTests.makeMixed(conn, chunks: 2)
            try conn.executeScript("""
                -- 5 more of t03 (100 before; t02 has 110): the order of the types stays as it was.
                SELECT enqueue_job('mixed', 't03', jsonb_build_object('late', i)) FROM generate_series(1, 5) i;
                SELECT count(*) FROM claim_jobs('w3', ARRAY['mixed'], 1000);
                SELECT complete_jobs('w3', array_agg(id ORDER BY id), array_agg((5 + n * 41 % 1500)::int ORDER BY id))
                  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM job_queue WHERE locked_by = 'w3') x;
                """)
            #expect(try conn.query("SELECT count(*) FROM queue_event_deltas").scalar(Int64.self) > 0)
            try conn.transaction { tx in
                try tx.execute("SET TRANSACTION READ ONLY")
                try PerTypeHealthTests.expectTypesMatchRawRows(tx, read: .queue("mixed"))
            }
        }
    }

    /// `status --json` prints the whole snapshot: every queue has its `types`.
    @Test func theWholeSnapshotKeepsEveryQueuesTypes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeTwoQueues(conn)
            let json = try HealthStore(connection: conn).snapshotJSON()
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let queues = try #require(object["queues"] as? [[String: Any]])
            #expect(queues.count == 2 && queues.allSatisfy { ($0["types"] as? [Any])?.isEmpty == false })
            let none = try HealthStore(connection: conn).snapshotJSON(types: false)
            let noneObject = try #require(try JSONSerialization.jsonObject(with: Data(none.utf8)) as? [String: Any])
            let noneQueues = try #require(noneObject["queues"] as? [[String: Any]])
            #expect(noneQueues.count == 2 && noneQueues.allSatisfy { $0["types"] == nil && $0["latency_ms"] != nil })
        }
    }

    /// The viewer (the dashboard's least role) reads all three ways; a worker and a producer,
    /// whose names say nothing of reading health, read none of them.
    @Test func theViewerReadsEveryWayAndTheWorkerAndProducerNone() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            try Self.makeTwoQueues(owner)
            let expected = try HealthStore(connection: owner).queueTypes("second")
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let viewer = try Connection.connect(config)
                defer { viewer.close() }
                let store = HealthStore(connection: viewer)
                #expect(try store.snapshot(types: .none).snapshot.queues.count == 2)
                #expect(try store.snapshot(types: .queue("second")).snapshot.queue(named: "second")?.types == expected)
                #expect(try store.snapshot(types: .all).snapshot.queue(named: "second")?.types == expected)
            }
            for group in ["queuetop_worker", "queuetop_producer"] {
                try db.withLoginRole(in: group) { config, _ in
                    let conn = try Connection.connect(config)
                    defer { conn.close() }
                    for sql in ["SELECT \(qt: "queue_health_snapshot")(false)", "SELECT \(qt: "health_queue_types")('second')"] as [Query] {
                        #expect(throws: PostgresError.self, "\(group): \(sql)") { try conn.query(sql) }
                    }
                }
            }
        }
    }
}

import Foundation
import Postgres
@testable import QueueStore
import TestSupport
import Testing

/// Short ids through job_queue_ids (0028): every job's tail is written once, at enqueue, by a
/// trigger; claims, completions and retries never touch it; deletes and TRUNCATE take tails with
/// them; a database upgraded from 0027 with jobs finds every old job by its tail after
/// `migrate` (the copy in batches, IdTailBackfill), and meanwhile through 0020's index.
@Suite(.serialized) struct IdTailTests {
    /// The ids find_job_ids gives for `part`, and what plain SQL says (a prefix or a suffix of
    /// the 32 hex digits), both sorted.
    func lookup(_ conn: Connection, _ part: String) throws -> (got: [UUID], want: [UUID]) {
        let got: [UUID] = try conn.query("SELECT id FROM \(qt: "find_job_ids")(\(part), 100000) AS id").map { try $0.decode("id") }
        let p = part.lowercased().replacingOccurrences(of: "-", with: "")
        let want: [UUID] = try conn.query("""
            SELECT id FROM \(qt: "job_queue")
            WHERE replace(id::text, '-', '') LIKE \(p) || '%' OR replace(id::text, '-', '') LIKE '%' || \(p)
            ORDER BY id
            """).map { try $0.decode("id") }
        return (got.sorted { $0.uuidString < $1.uuidString }, want.sorted { $0.uuidString < $1.uuidString })
    }

    /// Tails of several lengths taken from real ids, crafted ids that share a tail, prefixes.
    func assertLookupsMatchPlainSQL(_ conn: Connection, _ label: String) throws {
        let ids: [UUID] = try conn.query("SELECT id FROM \(qt: "job_queue") ORDER BY random() LIMIT 40").map { try $0.decode("id") }
        #expect(!ids.isEmpty)
        var parts = ["abc", "0abc", "000abc", "abd", "ABC0", "0001", "ffff"].filter { $0.count >= 4 }
        for (n, id) in ids.enumerated() {
            let hex = id.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let length = [4, 5, 8, 11, 12, 13, 20, 31][n % 8]
            parts.append(String(hex.suffix(length)))
            if n % 5 == 0 { parts.append(String(hex.prefix(6))) }
            if n % 7 == 0 { parts.append(id.uuidString.lowercased().suffix(17).description) }  // with a dash
        }
        for part in parts {
            let (got, want) = try lookup(conn, part)
            #expect(got == want, "\(label): find_job_ids('\(part)')")
        }
        for id in ids {
            let tail = String(id.uuidString.lowercased().suffix(8))
            #expect(try lookup(conn, tail).got.contains(id), "\(label): \(id) by its tail \(tail)")
        }
    }

    /// Jobs whose ids share their last digits (and one that ends like another begins).
    func seedCraftedIds(_ conn: Connection) throws {
        try conn.executeScript("""
            INSERT INTO queues (name) VALUES ('tails') ON CONFLICT DO NOTHING;
            INSERT INTO job_queue (id, queue, job_type) VALUES
              ('abc00000-0000-7000-8000-000000000abc', 'tails', 'x'),
              ('abc00000-0000-7000-8000-000000000abd', 'tails', 'x'),
              ('00000000-0000-7000-8000-00000abc0001', 'tails', 'x'),
              ('11111111-0000-7000-8000-100000000abc', 'tails', 'x'),
              ('22222222-0000-7000-8000-ffffffff0abc', 'tails', 'x'),
              ('33333333-0000-7000-8000-000000000000', 'tails', 'x'),
              ('44444444-0000-7000-8000-ffffffffffff', 'tails', 'x');
            """)
    }

    /// The side table holds exactly one row per job, keyed by its tail.
    func assertSideTableMatches(_ conn: Connection, _ label: String) throws {
        let stray: Int = try conn.query("""
            SELECT (SELECT count(*) FROM (SELECT id FROM \(qt: "job_queue") EXCEPT ALL SELECT id FROM \(qt: "job_queue_ids")) a)
                 + (SELECT count(*) FROM (SELECT id FROM \(qt: "job_queue_ids") EXCEPT ALL SELECT id FROM \(qt: "job_queue")) b)
                 + (SELECT count(*) FROM \(qt: "job_queue_ids") s WHERE s.tail <> \(qt: "_id_tail_key")(s.id))
            """).scalar(Int.self)
        #expect(stray == 0, "\(label): job_queue_ids is not one row per job")
    }

    @Test func idPartsMatchPlainSQLAndTheOldIndexIsGone() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            _ = try jobs.enqueue((0..<3000).map { _ in NewJob(queue: "tails", type: "send") })
            try conn.executeScript("""
                INSERT INTO job_queue (queue, job_type) SELECT 'tails', 'bulk' FROM generate_series(1, 5000);
                ANALYZE job_queue;
                """)
            try seedCraftedIds(conn)
            try assertSideTableMatches(conn, "after enqueue and INSERT")
            try assertLookupsMatchPlainSQL(conn, "fresh")
            let old: Bool = try conn.query("SELECT to_regclass('queuetop.job_queue_id_tail_idx') IS NOT NULL").scalar()
            #expect(!old, "a fresh install has no index on the tail of job_queue's ids")
            // The ambiguity the lookup reports: every id ending in abc.
            let (got, _) = try lookup(conn, "0abc")
            #expect(got.map { $0.uuidString.lowercased() }.filter { $0.hasSuffix("0abc") }.count >= 3)
            // The key: the last digit first, so a suffix is one range.
            let key: Int64 = try conn.query("SELECT \(qt: "_id_tail_key")('00000000-0000-7000-8000-000000000abc')").scalar()
            #expect(key == 0xcba0_0000_0000)
            #expect(try conn.query("SELECT \(qt: "_id_tail_key")('00000000-0000-7000-8000-ffffffffffff')").scalar(Int64.self) == 0xffff_ffff_ffff)
        }
    }

    @Test func jobIdsEndingRefusesWhatIsNotHex() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            for bad in ["", "xyz", "abc-d", String(repeating: "a", count: 33), "ab c"] {
                do {
                    _ = try conn.query("SELECT \(qt: "job_ids_ending")(\(bad))")
                    Issue.record("job_ids_ending('\(bad)') was accepted")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "22023", "\(bad): \(error)")
                }
            }
            do {
                _ = try conn.query("SELECT \(qt: "job_ids_ending")(NULL::text)")
                Issue.record("job_ids_ending(NULL) was accepted")
            } catch let error as PostgresError {
                #expect(error.sqlState == "22023", "NULL: \(error)")
            }
        }
    }

    /// The point of 0028: a claim + complete round, a failure and its retry, a heartbeat and a
    /// release write nothing to job_queue_ids (counted inside the transaction, so no other
    /// session's writes count), and job_queue has no index on the id's tail that they would
    /// each have written to.
    @Test func claimCompleteAndRetryNeverTouchTheSideTable() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            _ = try jobs.enqueue((0..<200).map { _ in NewJob(queue: "tails", type: "send") })
            // pg_stat_xact_user_tables also holds counts of this session's earlier transactions
            // not yet flushed to the shared statistics; within one transaction nothing is
            // flushed, so the difference is exactly what the body wrote.
            func sideWrites(_ body: (Connection) throws -> Void) throws -> Int {
                try conn.transaction { tx in
                    let count: Query = """
                        SELECT (n_tup_ins + n_tup_upd + n_tup_del + n_tup_hot_upd)::int FROM pg_stat_xact_user_tables
                        WHERE relid = to_regclass('queuetop.job_queue_ids')
                        """
                    let before = try tx.query(count).scalar(Int.self)
                    try body(tx)
                    return try tx.query(count).scalar(Int.self) - before
                }
            }
            let enqueueWrites = try sideWrites { tx in
                _ = try tx.query("SELECT \(qt: "enqueue_job")('tails', 'one')")
            }
            #expect(enqueueWrites == 1, "an enqueue writes its tail once")
            var claimed = 0
            let hotPathWrites = try sideWrites { tx in
                let ids: [UUID] = try tx.query("SELECT id FROM \(qt: "claim_jobs")('w1', ARRAY['tails'], 100)").map { try $0.decode("id") }
                claimed = ids.count
                _ = try tx.query("SELECT \(qt: "heartbeat_jobs")('w1', \(ids)::uuid[])")
                _ = try tx.query("SELECT \(qt: "complete_jobs")('w1', \(Array(ids.prefix(60)))::uuid[], NULL::int[])")
                _ = try tx.query("""
                    SELECT \(qt: "fail_jobs")('w1', \(Array(ids.dropFirst(60).prefix(20)))::uuid[],
                                               array_fill('boom'::text, ARRAY[20]), array_fill('e'::text, ARRAY[20]))
                    """)
                _ = try tx.query("SELECT \(qt: "release_jobs")('w1', \(Array(ids.suffix(20)))::uuid[])")
            }
            #expect(claimed == 100)
            #expect(hotPathWrites == 0, "claim, heartbeat, complete, fail (retry) and release write no tail")
            let completed: Int = try conn.query("SELECT count(*)::int FROM \(qt: "job_queue") WHERE status = 'completed'").scalar()
            #expect(completed == 60)
            let tailIndexes: Int = try conn.query("""
                SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'queuetop' AND tablename = 'job_queue'
                  AND (indexdef ILIKE '%right(%' OR indexdef ILIKE '%reverse(%' OR indexdef ILIKE '%_id_tail_key%')
                """).scalar()
            #expect(tailIndexes == 0, "no index on job_queue is written for the tail")
        }
    }

    /// Retention, `jobs delete`, an application's DELETE and TRUNCATE leave no tail of a gone job;
    /// an UPDATE of an id moves its tail; a re-inserted id is found again.
    @Test func deletesAndTruncateKeepTheSideTableExact() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                INSERT INTO queues (name, retention_s) VALUES ('tails', 86400);
                -- Ids of 30 days ago (retention walks ids in time order), random tails.
                INSERT INTO job_queue (id, queue, job_type, status, completed_at)
                SELECT (left(_uuid_v7_floor(now() - interval '30 days')::text, 24) || right(gen_random_uuid()::text, 12))::uuid,
                       'tails', 'old', 'completed', now() - interval '30 days' FROM generate_series(1, 3000);
                INSERT INTO job_queue (queue, job_type) SELECT 'tails', 'new' FROM generate_series(1, 500);
                """)
            try seedCraftedIds(conn)
            try assertSideTableMatches(conn, "seeded")
            let pruned: Int = try conn.query("SELECT \(qt: "prune_completed_jobs")(5000)").scalar()
            #expect(pruned == 3000)
            try assertSideTableMatches(conn, "after retention")
            try conn.executeScript("DELETE FROM job_queue WHERE id = 'abc00000-0000-7000-8000-000000000abc'")
            try assertSideTableMatches(conn, "after a DELETE")
            #expect(try lookup(conn, "0abc").got.map { $0.uuidString.lowercased() }
                .contains("abc00000-0000-7000-8000-000000000abc") == false)
            try conn.executeScript("UPDATE job_queue SET id = '55555555-0000-7000-8000-00000000beef' WHERE id = '33333333-0000-7000-8000-000000000000'")
            try assertSideTableMatches(conn, "after an UPDATE of id")
            #expect(try lookup(conn, "beef").got.map { $0.uuidString.lowercased() } == ["55555555-0000-7000-8000-00000000beef"])
            try conn.executeScript("INSERT INTO job_queue (id, queue, job_type) VALUES ('abc00000-0000-7000-8000-000000000abc', 'tails', 'again')")
            try assertSideTableMatches(conn, "after re-inserting a deleted id")
            try assertLookupsMatchPlainSQL(conn, "after deletes")
            try conn.executeScript("TRUNCATE job_queue CASCADE")
            #expect(try conn.query("SELECT count(*)::int FROM \(qt: "job_queue_ids")").scalar(Int.self) == 0)
        }
    }

    /// An upgrade from 0027 with jobs: `migrate` copies every old job's tail in batches, then drops
    /// 0020's index; every job is found by its tail afterwards; a second `migrate` does nothing.
    @Test func upgradeFrom0027FindsEveryOldJobByItsTail() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            defer { conn.close() }
            let set = try MigrationFiles.loadSet()
            try MigrationRunner(files: set.versioned.filter { $0.name < "0028" }).migrate(on: conn)
            // Only the versioned files ran: the triggers 0003 left call functions of that time
            // (the repeatable files were not applied), so the rows go in without them.
            try conn.executeScript("""
                INSERT INTO queuetop.queues (name) VALUES ('tails');
                ALTER TABLE queuetop.job_queue DISABLE TRIGGER USER;
                INSERT INTO queuetop.job_queue (queue, job_type, status, completed_at)
                SELECT 'tails', 'old', CASE WHEN g % 2 = 0 THEN 'completed' ELSE 'pending' END,
                       CASE WHEN g % 2 = 0 THEN now() END
                FROM generate_series(1, 25000) g;
                ALTER TABLE queuetop.job_queue ENABLE TRIGGER USER;
                """)
            let before: [UUID] = try conn.query("SELECT id FROM queuetop.job_queue ORDER BY id").map { try $0.decode("id") }
            let done = try MigrationRunner(set).migrate(on: conn)
            #expect(done.contains("job_queue_ids: 25000 id tails copied (0028)"), "\(done)")
            #expect(done.last == "index job_queue_id_tail_idx dropped (concurrently)", "\(done)")
            try assertSideTableMatches(conn, "after the upgrade")
            for id in before.shuffled().prefix(200) {
                let tail = String(id.uuidString.lowercased().suffix(8))
                #expect(try lookup(conn, tail).got.contains(id), "\(id) by its tail after the upgrade")
            }
            try assertLookupsMatchPlainSQL(conn, "upgraded")
            #expect(try conn.query("SELECT count(*)::int FROM queuetop.job_queue_ids_backfill").scalar(Int.self) == 0)
            #expect(try MigrationRunner(set).migrate(on: conn) == [], "a second migrate is a no-op")
        }
    }

    /// While the copy is not done (interrupted, or not run yet) lookups read 0020's index, which
    /// every job is in; the copy resumes from where it stopped, in batches, taking turns with the
    /// trigger, and drops that index at the end.
    @Test func lookupsWorkWhileTheCopyIsPendingAndTheCopyResumes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                INSERT INTO queues (name) VALUES ('tails');
                INSERT INTO job_queue (queue, job_type) SELECT 'tails', 'x' FROM generate_series(1, 2000);
                CREATE INDEX job_queue_id_tail_idx ON job_queue ((reverse(right(id::text, 12))) COLLATE "C");
                TRUNCATE job_queue_ids;
                INSERT INTO job_queue_ids_backfill DEFAULT VALUES;
                """)
            try seedCraftedIds(conn)  // written by the trigger meanwhile
            try assertLookupsMatchPlainSQL(conn, "copy pending")
            // A copy interrupted half-way: the first 1,000 ids by primary key were done.
            try conn.executeScript("""
                UPDATE job_queue_ids_backfill SET after_id = (SELECT id FROM job_queue ORDER BY id OFFSET 999 LIMIT 1);
                INSERT INTO job_queue_ids SELECT _id_tail_key(id), id FROM job_queue ORDER BY id LIMIT 1000 ON CONFLICT DO NOTHING;
                """)
            try assertLookupsMatchPlainSQL(conn, "copy half done")
            let left: Int = try conn.query("""
                SELECT count(*)::int FROM job_queue j WHERE j.id > (SELECT after_id FROM job_queue_ids_backfill)
                  AND NOT EXISTS (SELECT 1 FROM job_queue_ids s WHERE s.id = j.id)
                """).scalar()
            #expect(left > 900)
            let outcome = try IdTailBackfill.run(schema: "queuetop", batch: 97, on: conn)
            #expect(outcome.copied == left, "only the jobs after the last copied id, less those the trigger wrote")
            #expect(outcome.droppedOldIndex)
            try assertSideTableMatches(conn, "after the resumed copy")
            try assertLookupsMatchPlainSQL(conn, "copy done")
            #expect(try IdTailBackfill.run(schema: "queuetop", on: conn) == IdTailBackfill.Outcome())
        }
    }

    /// No role writes job_queue_ids itself; the viewer and the operator find jobs by a part of the
    /// id (find_job_ids, job_ids_ending) and read it; a producer's enqueue writes its tail through
    /// the trigger.
    @Test func rolesWriteTailsOnlyThroughTheTrigger() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let id = try JobStore(connection: owner).enqueue(NewJob(queue: "tails", type: "send")).id
            let tail = String(id.uuidString.lowercased().suffix(8))
            func refusal(_ conn: Connection, _ sql: Query) -> String? {
                do { _ = try conn.query(sql); return nil } catch let error as PostgresError { return error.sqlState ?? "?" } catch { return "\(error)" }
            }
            for group in ["queuetop_viewer", "queuetop_operator", "queuetop_worker", "queuetop_producer"] {
                try db.withLoginRole(in: group) { config, _ in
                    let conn = try Connection.connect(config)
                    defer { conn.close() }
                    #expect(refusal(conn, "INSERT INTO \(qt: "job_queue_ids") (tail, id) VALUES (1, gen_random_uuid())") == "42501", "\(group)")
                    #expect(refusal(conn, "DELETE FROM \(qt: "job_queue_ids")") == "42501", "\(group)")
                    #expect(refusal(conn, "UPDATE \(qt: "job_queue_ids_backfill") SET after_id = NULL") == "42501", "\(group)")
                    #expect(refusal(conn, "SELECT \(qt: "job_queue_ids_added")()") != nil, "\(group)")
                    let reader = group == "queuetop_viewer" || group == "queuetop_operator"
                    let found = refusal(conn, "SELECT * FROM \(qt: "find_job_ids")(\(tail))")
                    #expect(reader ? found == nil : found == "42501", "\(group) find_job_ids")
                    if reader {
                        let ids: [UUID] = try conn.query("SELECT id FROM \(qt: "find_job_ids")(\(tail)) AS id").map { try $0.decode("id") }
                        #expect(ids == [id], "\(group)")
                    }
                    if group == "queuetop_producer" {
                        let new: UUID = try conn.query("SELECT \(qt: "enqueue_job")('tails', 'from-producer')").scalar()
                        let n: Int = try owner.query("SELECT count(*)::int FROM \(qt: "job_queue_ids") WHERE id = \(new)").scalar()
                        #expect(n == 1, "a producer's job has its tail")
                    }
                }
            }
        }
    }
}

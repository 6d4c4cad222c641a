import Foundation
import Testing
import Postgres
import TestSupport

/// A producer sees its own jobs only (job_status), where "own" is the role the caller acts as.
/// Under Supabase's PostgREST every request logs in as `authenticator` and then runs
/// `SET ROLE anon | authenticated | service_role`: keyed on session_user, two API roles would see
/// each other's jobs. The identity is the effective outer role, which SET ROLE chooses and which
/// SECURITY DEFINER does not change.
@Suite struct ProducerIdentityTests {
    func unique(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))"
    }

    @Test func twoRolesOfOneLoginSeeOnlyTheirOwnJobs() throws {
        try TestDatabase.with { db in
            let admin = try db.connect()
            defer { admin.close() }
            // Like PostgREST: one login (authenticator) that may SET ROLE to two API roles.
            let login = unique("qt_authenticator"), a = unique("qt_api_a"), b = unique("qt_api_b")
            try admin.executeScript("""
                CREATE ROLE "\(a)" NOLOGIN IN ROLE queuetop_producer;
                CREATE ROLE "\(b)" NOLOGIN IN ROLE queuetop_producer;
                CREATE ROLE "\(login)" LOGIN NOINHERIT IN ROLE "\(a)", "\(b)";
                """)
            defer {
                _ = try? admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \(login)")
                _ = try? admin.executeScript("DROP ROLE IF EXISTS \"\(login)\"; DROP ROLE IF EXISTS \"\(a)\"; DROP ROLE IF EXISTS \"\(b)\"")
            }
            let conn = try Connection.connect(db.sqlConfig.overriding("user", login))
            defer { conn.close() }

            try conn.executeScript("SET ROLE \"\(a)\"")
            let id = try conn.query("SELECT enqueue_job('mail', 'send')::text AS id").scalar(String.self)
            let ownA = try conn.query("SELECT count(*)::int FROM job_status(\(id)::uuid)").scalar(Int.self)
            #expect(ownA == 1, "the role that enqueued the job sees it")

            try conn.executeScript("SET ROLE \"\(b)\"")
            let seenByB = try conn.query("SELECT count(*)::int FROM job_status(\(id)::uuid)").scalar(Int.self)
            #expect(seenByB == 0, "another role of the same login sees the job")
            // Nor does b get a's result through the unique_for_s cache.
            try admin.query("""
                UPDATE job_queue SET status = 'completed', completed_at = now(), result = '{"secret": 1}',
                                     dedup_key = 'k' WHERE id = \(id)::uuid
                """)
            let cached = try conn.query("""
                SELECT deduplicated, result::text AS r FROM enqueue_jobs('[{"queue": "mail", "type": "send", "dedup_key": "k", "unique_for_s": 60}]')
                """)
            #expect(try cached.first?.decode("r", as: String?.self) == nil, "b got a's cached result")

            try conn.executeScript("SET ROLE \"\(a)\"")
            #expect(try conn.query("SELECT count(*)::int FROM job_status(\(id)::uuid)").scalar(Int.self) == 1)
            let cachedForA = try conn.query("""
                SELECT result::text AS r FROM enqueue_jobs('[{"queue": "mail", "type": "send", "dedup_key": "k", "unique_for_s": 60}]')
                """)
            #expect(try cachedForA.first?.decode("r", as: String?.self) == #"{"secret": 1}"#)
            // What is recorded is the role the caller acted as, not the login.
            #expect(try admin.query("SELECT enqueued_by FROM job_queue WHERE id = \(id)::uuid").scalar(String.self) == a)
        }
    }

    /// A login role that sets no role keeps working as before: its identity is its own name.
    @Test func withoutSetRoleTheLoginRoleIsTheIdentity() throws {
        try TestDatabase.with { db in
            try db.withLoginRole(in: "queuetop_producer") { config, role in
                let conn = try Connection.connect(db.sqlConfig.overriding("user", role))
                defer { conn.close() }
                let id = try conn.query("SELECT enqueue_job('mail', 'send')::text AS id").scalar(String.self)
                #expect(try conn.query("SELECT count(*)::int FROM job_status(\(id)::uuid)").scalar(Int.self) == 1)
                let admin = try db.connect()
                defer { admin.close() }
                #expect(try admin.query("SELECT enqueued_by FROM job_queue WHERE id = \(id)::uuid").scalar(String.self) == role)
                // The owner (another role) does not see it through job_status either.
                #expect(try admin.query("SELECT count(*)::int FROM job_status(\(id)::uuid)").scalar(Int.self) == 0)
            }
        }
    }
}

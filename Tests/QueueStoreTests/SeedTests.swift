import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Seed 000 runs verbatim: its tests, its DLQ recipe and its monitoring queries.
@Suite struct SeedTests {
    @Test func teste3And4AndTheDLQRecipeRunVerbatim() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let id = try JobStore(connection: conn).enqueue(NewJob(queue: "emails", type: "send")).id
            func seed(_ sql: String) throws -> QueryResult {
                try conn.query(Query(unsafeSQL: sql.replacingOccurrences(of: "JOB_ID_AQUI", with: id.uuidString.lowercased())))
            }
            // Teste 3
            _ = try seed("SELECT fail_job('JOB_ID_AQUI'::UUID, 'Teste de retry', 'test_error', NULL, true)")
            let t3 = try seed("SELECT id, status, attempt_count, next_retry_at, error_message FROM job_queue WHERE id = 'JOB_ID_AQUI'::UUID")[0]
            #expect(try t3.decode("status", as: String.self) == "pending")
            #expect(try t3.decode("next_retry_at", as: Date.self) > Date())
            // Teste 4
            _ = try seed("UPDATE job_queue SET attempt_count = 5 WHERE id = 'JOB_ID_AQUI'::UUID")
            _ = try seed("SELECT fail_job('JOB_ID_AQUI'::UUID, 'Max retries exceeded test', 'test_error', NULL, true)")
            #expect(try seed("SELECT * FROM job_queue WHERE status = 'dead_letter'").count == 1)
            _ = try seed("SELECT requeue_dlq_job('JOB_ID_AQUI'::UUID, true)")
            let after = try seed("SELECT status, attempt_count FROM job_queue WHERE id = 'JOB_ID_AQUI'::UUID")[0]
            #expect(try after.decode("status", as: String.self) == "pending" && after.decode("attempt_count", as: Int.self) == 0)
            // The troubleshooting recipe: requeue every smtp_error job.
            _ = try seed("SELECT fail_job('JOB_ID_AQUI'::UUID, 'SMTP down', 'smtp_error', NULL, false)")
            try conn.executeScript("""
                DO $$
                DECLARE
                    job_rec RECORD;
                BEGIN
                    FOR job_rec IN
                        SELECT id FROM job_queue
                        WHERE status = 'dead_letter'
                        AND error_type = 'smtp_error'  -- Ajustar tipo
                    LOOP
                        PERFORM requeue_dlq_job(job_rec.id, true);
                    END LOOP;
                END $$;
                """)
            #expect(try seed("SELECT 1 FROM job_queue WHERE status = 'pending' AND id = 'JOB_ID_AQUI'::UUID").count == 1)
        }
    }

    @Test func monitoringQueriesRun() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            _ = try jobs.enqueue((0..<5).map { _ in NewJob(queue: "emails", type: "send") })
            let claimed = try jobs.claim(worker: "w", queues: nil, max: 3)
            try jobs.complete(worker: "w", ids: claimed.map(\.id), processingMs: [10, 20, 30])
            let queries = [
                "SELECT status, COUNT(*) as total, AVG(processing_time_ms) as avg_time_ms, MAX(created_at) as last_created FROM job_queue GROUP BY status ORDER BY total DESC",
                "SELECT date_trunc('hour', completed_at) as hour, COUNT(*) as emails_processed FROM job_queue WHERE status = 'completed' AND completed_at > NOW() - INTERVAL '24 hours' GROUP BY hour ORDER BY hour DESC",
                "SELECT error_type, COUNT(*) as total, MAX(last_error_at) as last_occurrence FROM job_queue WHERE status IN ('failed', 'dead_letter') AND last_error_at > NOW() - INTERVAL '24 hours' GROUP BY error_type ORDER BY total DESC",
                "SELECT PERCENTILE_CONT(0.50) WITHIN GROUP (ORDER BY processing_time_ms) as p50_ms, PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY processing_time_ms) as p95_ms, PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY processing_time_ms) as p99_ms, AVG(processing_time_ms) as avg_ms, MAX(processing_time_ms) as max_ms FROM job_queue WHERE status = 'completed' AND completed_at > NOW() - INTERVAL '1 hour'",
            ]
            for sql in queries { _ = try conn.query(Query(unsafeSQL: sql)) }
            let p50: Double = try conn.query(Query(unsafeSQL: queries[3]))[0].decode("p50_ms")
            #expect(p50 == 20)
        }
    }
}

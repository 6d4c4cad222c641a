import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// `queuetop worker --metrics-listen`: the real binary, scraped over HTTP, its text parsed by
/// prometheus_client's reference parser, its counters compared with what the database recorded.
@Suite struct WorkerMetricsTests {
    static let completes = #"{"latency_ms": {"p50": 2}}"#
    static let failsForGood = #"{"latency_ms": {"p50": 2}, "errors": {"boom": {"p": 1, "retryable": false}}}"#
    static let failsRetryably = #"{"latency_ms": {"p50": 2}, "errors": {"flaky": 1}}"#

    @Test func countersMatchTheJobsTheDatabaseRan() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = JobStore(connection: conn)
            // Label values are hostile input: a queue name with a quote and a backslash (queue names
            // cannot hold controls), and a job type that tries to close the label set and forge a
            // series. No handler takes that type, so its jobs fail for good.
            let hostile = "bills \"q\" \\ x"
            let forged = "t\"}\nqueuetop_worker_jobs_completed_total{queue=\"mail\",type=\"noop\"} 999\n#"
            _ = try store.enqueue((0..<2).map { _ in NewJob(queue: "mail", type: forged) })
            _ = try store.enqueue((0..<14).map { _ in NewJob(queue: "mail", type: "noop") })
            _ = try store.enqueue((0..<6).map { _ in NewJob(queue: hostile, type: "simulate", payload: JSONText(Self.completes)) })
            _ = try store.enqueue((0..<5).map { _ in NewJob(queue: "mail", type: "simulate", payload: JSONText(Self.failsForGood)) })
            _ = try store.enqueue((0..<3).map { _ in
                NewJob(queue: hostile, type: "simulate", payload: JSONText(Self.failsRetryably), maxAttempts: 2)
            })
            try conn.execute("SELECT update_queue_settings(\(hostile), '{\"backoff_schedule_s\": [0]}'::jsonb)")

            let worker = try RunningQueuetop(["worker", "--metrics-listen", "127.0.0.1:0", "--concurrency", "4"],
                                             environment: ["DATABASE_URL": db.conninfo], name: "worker-metrics")
            defer { worker.stop() }
            let url = try worker.endpoint()
            try waitUntil(timeout: 120, worker) {
                try conn.query("SELECT count(*) FROM job_queue WHERE status IN ('pending', 'processing')").scalar(Int64.self) == 0
            }

            let scrape = try PrometheusScrape.get(url)
            #expect(scrape.status == 200)
            #expect(scrape.contentType.hasPrefix("text/plain; version=0.0.4"))
            let byDatabase = try conn.query("""
                SELECT queue, job_type, count(*) FILTER (WHERE status = 'completed') AS completed,
                       count(*) FILTER (WHERE status = 'dead_letter') AS dead, sum(attempt_count) AS failed_attempts
                FROM job_queue GROUP BY queue, job_type
                """).map { row in
                    (queue: try row.decode("queue", as: String.self), type: try row.decode("job_type", as: String.self),
                     completed: try row.decode("completed", as: Int64.self), dead: try row.decode("dead", as: Int64.self),
                     failed: try row.decode("failed_attempts", as: Int64.self))
                }
            #expect(byDatabase.count == 4)
            #expect(byDatabase.contains { $0.queue == hostile && $0.failed > 3 }, "retries happened: \(byDatabase)")
            for expected in byDatabase {
                let job = ["queue": expected.queue, "type": expected.type]
                #expect(scrape.sum("queuetop_worker_jobs_completed_total", job) == Double(expected.completed), "\(expected)")
                #expect(scrape.sum("queuetop_worker_jobs_failed_total", job) == Double(expected.failed), "\(expected)")
                #expect(scrape.sum("queuetop_worker_jobs_failed_total", job.merging(["outcome": "dead_letter"]) { $1 })
                        == Double(expected.dead), "\(expected)")
                #expect(scrape.sum("queuetop_worker_jobs_failed_total", job.merging(["outcome": "retry"]) { $1 })
                        == Double(expected.failed - expected.dead), "\(expected)")
                #expect(scrape.sum("queuetop_worker_jobs_claimed_total", job) == Double(expected.completed + expected.failed),
                        "every run was claimed once: \(expected)")
                #expect(scrape.value("queuetop_worker_job_duration_seconds_count", job)
                        == Double(expected.completed + expected.failed), "one duration per run: \(expected)")
            }
            #expect(scrape.value("queuetop_worker_jobs_in_flight") == 0)
            #expect(scrape.value("queuetop_worker_unwritten_results") == 0)
            #expect(scrape.value("queuetop_worker_concurrency") == 4)
            #expect(scrape.value("queuetop_worker_circuit_breaker_state", ["queue": "mail", "state": "closed"]) == 1)
            #expect((scrape.value("queuetop_worker_claim_duration_seconds_count") ?? 0) >= 1)
            #expect((scrape.value("queuetop_worker_complete_duration_seconds_count") ?? 0) >= 1)
            #expect(scrape.value("queuetop_worker_reconnects_total") == 0)
            // The hostile values survived the round trip through the text format exactly (the
            // parsed labels matched above), escaped: the forged series is not a line of its own.
            #expect(scrape.text.contains(#"queue="bills \"q\" \\ x""#), "\(scrape.text)")
            #expect(!scrape.text.contains("\nqueuetop_worker_jobs_completed_total{queue=\"mail\",type=\"noop\"} 999"))
            #expect(scrape.sum("queuetop_worker_jobs_failed_total", ["type": forged, "outcome": "dead_letter"]) == 2)
            let families = Dictionary(scrape.samples.map { ($0.family, $0.type) }, uniquingKeysWith: { a, _ in a })
            #expect(families["queuetop_worker_jobs_completed"] == "counter")
            #expect(families["queuetop_worker_job_duration_seconds"] == "histogram")
            #expect(families["queuetop_worker_jobs_in_flight"] == "gauge")
            let undocumented = try scrape.undocumentedNames()
            #expect(undocumented.isEmpty, "docs/OBSERVABILITY.md lacks \(undocumented)")
        }
    }

    @Test func aBadOrTakenAddressFailsTheStartWithOneLine() throws {
        try TestDatabase.with { db in
            let bad = try QueuetopBinary.run(["worker", "--metrics-listen", "nonsense"], environment: ["DATABASE_URL": db.conninfo])
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("--metrics-listen \"nonsense\" is not HOST:PORT"), "\(bad.stderr)")

            let first = try RunningQueuetop(["worker", "--metrics-listen", "127.0.0.1:0"],
                                            environment: ["DATABASE_URL": db.conninfo], name: "worker-port")
            defer { first.stop() }
            let port = try first.endpoint().port!
            let taken = try QueuetopBinary.run(["worker", "--metrics-listen", "127.0.0.1:\(port)"],
                                               environment: ["DATABASE_URL": db.conninfo], timeout: 30)
            #expect(taken.status == 1)
            #expect(taken.stderr.contains("--metrics-listen: cannot listen on 127.0.0.1:\(port)"), "\(taken.stderr)")
            let conn = try db.connect()
            defer { conn.close() }
            #expect(try conn.query("SELECT count(*) FROM worker_registry").scalar(Int64.self) == 1,
                    "the refused worker never registered")
        }
    }
}

/// Polls `condition` every 0.1 s until it holds; fails the test with the process's log if it never does.
func waitUntil(timeout: Double, _ process: RunningQueuetop, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.1)
    }
    Issue.record("not true after \(timeout) s; log:\n\(process.logText)")
    throw ScrapeError("timed out")
}

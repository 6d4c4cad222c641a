import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// `queuetop exporter`: the real binary scraped over HTTP, its text parsed by prometheus_client's
/// reference parser, its figures compared with the database and with `queuetop status --json`.
@Suite struct ExporterTests {
    /// A queue name with a quote and a backslash: label values are hostile input.
    static let hostile = "bills \"q\" \\ x"

    @Test func asTheViewerRoleItExportsWhatTheDatabaseHolds() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = JobStore(connection: conn)
            _ = try store.enqueue((0..<4).map { _ in NewJob(queue: Self.hostile, type: "send") })
            try conn.execute("UPDATE job_queue SET run_at = now() - interval '120 seconds' WHERE queue = \(Self.hostile)")
            try JobFixtures.deadLetters(conn, 3, queue: "mail")
            try conn.execute("SELECT update_queue_settings('mail', '{\"dlq_alert_threshold\": 1}'::jsonb)")
            _ = try store.enqueue((0..<10).map { _ in NewJob(queue: "fast", type: "send") })
            try conn.execute("""
                SELECT complete_jobs('test-worker', array_agg(id), array_agg(ms))
                FROM (SELECT id, (row_number() OVER () * 20)::int AS ms FROM claim_jobs('test-worker', ARRAY['fast'], 10)) c
                """)

            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let conninfo = try config.unredactedConninfo()
                let exporter = try RunningQueuetop(["exporter", "--listen", "127.0.0.1:0"],
                                                   environment: ["DATABASE_URL": conninfo], name: "exporter-viewer")
                defer { exporter.stop() }
                let scrape = try PrometheusScrape.get(try exporter.endpoint())
                #expect(scrape.status == 200)
                #expect(scrape.contentType.hasPrefix("text/plain; version=0.0.4"))
                #expect(scrape.value("queuetop_up") == 1, "\(exporter.logText)")

                let counts = try conn.query("SELECT queue, status, count(*) AS n FROM job_queue GROUP BY queue, status")
                #expect(counts.count == 3)
                for row in counts {
                    let labels = ["queue": try row.decode("queue", as: String.self), "status": try row.decode("status", as: String.self)]
                    #expect(scrape.value("queuetop_queue_jobs", labels) == Double(try row.decode("n", as: Int64.self)), "\(labels)")
                }
                #expect(scrape.value("queuetop_queue_jobs", ["queue": "mail", "status": "pending"]) == 0)
                // Oldest pending: the hostile queue's jobs were due 120 s ago (generous upper bound).
                let age = try #require(scrape.value("queuetop_queue_oldest_pending_age_seconds", ["queue": Self.hostile]))
                #expect(age >= 120 && age < 600, "\(age)")
                #expect(scrape.value("queuetop_alerts", ["queue": "mail", "kind": "dlq_above_threshold"]) == 1)
                #expect(scrape.value("queuetop_queue_circuit_breaker_state", ["queue": "mail", "state": "closed"]) == 1)
                #expect(scrape.value("queuetop_queue_paused", ["queue": "mail"]) == 0)

                // The percentiles are the snapshot's own estimates, in seconds.
                let status = try QueuetopBinary.run(["status", "--json"], environment: ["DATABASE_URL": conninfo])
                let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
                let fast = try #require((json["queues"] as? [[String: Any]])?.first { $0["name"] as? String == "fast" })
                let latency = try #require(fast["latency_ms"] as? [String: Any])
                for (key, quantile) in [("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")] {
                    let ms = try #require(latency[key] as? Double)
                    #expect(scrape.value("queuetop_queue_processing_seconds", ["queue": "fast", "quantile": quantile]) == ms / 1000, "\(key)")
                }
                #expect(scrape.matching("queuetop_queue_processing_seconds", ["queue": "mail"]).isEmpty,
                        "no completions, no percentile series")
                // Escaped by the library, and read back by the reference parser as the same name.
                #expect(scrape.text.contains(#"queue="bills \"q\" \\ x""#), "\(scrape.text)")
                let families = Dictionary(scrape.samples.map { ($0.family, $0.type) }, uniquingKeysWith: { a, _ in a })
                #expect(families["queuetop_queue_jobs"] == "gauge")
                #expect(families["queuetop_exporter_snapshot_reads"] == "counter")
                let undocumented = try scrape.undocumentedNames()
                #expect(undocumented.isEmpty, "docs/OBSERVABILITY.md lacks \(undocumented)")
            }
        }
    }

    /// Scrapes that arrive while a read is running wait for it and share it: eight scrapes during
    /// one blocked read cost one read, not eight.
    @Test func concurrentScrapesShareOneRead() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "mail", type: "send"))
            let exporter = try RunningQueuetop(["exporter", "--listen", "127.0.0.1:0", "--read-timeout", "120"],
                                               environment: ["DATABASE_URL": db.conninfo], name: "exporter-shared")
            defer { exporter.stop() }
            let url = try exporter.endpoint()
            let before = try #require(try PrometheusScrape.get(url).value("queuetop_exporter_snapshot_reads_total"))

            // Holding this lock blocks the snapshot read (it reads the queues table).
            try conn.execute("BEGIN")
            try conn.execute("LOCK TABLE queues IN ACCESS EXCLUSIVE MODE")
            let results = ScrapeResults()
            let group = DispatchGroup()
            for _ in 0..<8 {
                group.enter()
                Thread {
                    results.append(Result { try PrometheusScrape.get(url, timeout: 120) })
                    group.leave()
                }.start()
            }
            try waitUntil(timeout: 60, exporter) {
                try conn.query("""
                    SELECT count(*) FROM pg_stat_activity
                    WHERE application_name = 'queuetop exporter' AND wait_event_type = 'Lock'
                    """).scalar(Int64.self) >= 1
            }
            Thread.sleep(forTimeInterval: 2)  // the other requests (local, milliseconds) arrive meanwhile
            try conn.execute("COMMIT")
            #expect(group.wait(timeout: .now() + 120) == .success)

            let scrapes = try results.all.map { try $0.get() }
            #expect(scrapes.count == 8)
            let reads = Set(scrapes.map { $0.value("queuetop_exporter_snapshot_reads_total") })
            #expect(reads == [before + 1], "every scrape answered from the one read: \(reads)")
            #expect(scrapes.allSatisfy { $0.value("queuetop_up") == 1 && $0.value("queuetop_queue_jobs", ["queue": "mail", "status": "pending"]) == 1 })
        }
    }

    /// With its database stopped, the exporter keeps answering 200 with `queuetop_up 0` (and a
    /// worker's endpoint keeps answering too); started again, both recover by themselves and the
    /// worker counts its reconnects.
    @Test func aStoppedDatabaseAnswersUpZeroAndBothRecover() throws {
        let cluster = try PrivateCluster(prefix: "metrics")
        defer { cluster.destroy() }
        let environment = ["DATABASE_URL": cluster.url]
        let exporter = try RunningQueuetop(["exporter", "--listen", "127.0.0.1:0", "--read-timeout", "2"],
                                           environment: environment, name: "exporter-down")
        defer { exporter.stop() }
        let worker = try RunningQueuetop(["worker", "--metrics-listen", "127.0.0.1:0"], environment: environment, name: "worker-down")
        defer { worker.stop() }
        let exporterURL = try exporter.endpoint(), workerURL = try worker.endpoint()
        let conn = try Connection.connect(cluster.sqlConfig)
        _ = try JobStore(connection: conn).enqueue(NewJob(queue: "mail", type: "send"))
        conn.close()
        let upBefore = try PrometheusScrape.until(exporterURL) { $0.value("queuetop_queue_jobs", ["queue": "mail", "status": "pending"]) != nil }
        #expect(upBefore.value("queuetop_up") == 1, "\(exporter.logText)")

        try cluster.stop()
        for _ in 0..<5 {
            let scrape = try PrometheusScrape.get(exporterURL)
            #expect(scrape.status == 200)
            #expect(scrape.value("queuetop_up") == 0)
            #expect(scrape.matching("queuetop_queue_jobs", [:]).isEmpty, "no stale queue figures while down")
        }
        #expect(exporter.process.isRunning && worker.process.isRunning)
        #expect(try PrometheusScrape.get(workerURL).status == 200)

        try cluster.start()
        let recovered = try PrometheusScrape.until(exporterURL) { $0.value("queuetop_up") == 1 }
        #expect(recovered.value("queuetop_up") == 1, "\(exporter.logText)")
        #expect(recovered.value("queuetop_queue_jobs", ["queue": "mail", "status": "pending"]) != nil)
        let reconnected = try PrometheusScrape.until(workerURL) { ($0.value("queuetop_worker_reconnects_total") ?? 0) >= 1 }
        #expect((reconnected.value("queuetop_worker_reconnects_total") ?? 0) >= 1, "\(worker.logText)")
        // The outage is logged once and its end once, not once per scrape.
        let log = exporter.logText
        #expect(log.components(separatedBy: "cannot read the health snapshot").count == 2, "\(log)")
        #expect(log.components(separatedBy: "reading the health snapshot again").count == 2, "\(log)")
    }
}

private final class ScrapeResults: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var results: [Result<PrometheusScrape, any Error>] = []
    func append(_ result: Result<PrometheusScrape, any Error>) { lock.withLock { results.append(result) } }
    var all: [Result<PrometheusScrape, any Error>] { lock.withLock { results } }
}

import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

/// Issue 16: what an operator can make a worker send, and what a viewer can read back. Each test
/// runs the real `queuetop worker` binary against the real database and a loopback receiver.
@Suite struct WorkerSecretsTests {
    func stop(_ worker: Process) {
        kill(worker.processIdentifier, SIGTERM)
        if !PoolFixture.eventually(timeout: 20, { !worker.isRunning }) { kill(worker.processIdentifier, SIGKILL) }
        worker.waitUntilExit()
    }

    /// A config file in a fresh folder, and the folder (for the worker's log).
    func configFile(_ json: String) throws -> (path: String, dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-secrets-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("worker.json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return (path, dir)
    }

    func binaryPresent() -> Bool {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path); build it or set QUEUETOP_BIN")
            return false
        }
        return true
    }

    /// An operator adds two hooks, one naming a variable the worker host allows and one naming a
    /// variable it does not (a stand-in for PGPASSWORD or a handler's API key). The worker sends
    /// the allowed one, never the other: that delivery fails for good with a reason naming the
    /// allowlist, and the value appears in no request, no database row and no log line.
    @Test func aHookGetsOnlyTheSecretsTheWorkerHostAllows() throws {
        guard binaryPresent() else { return }
        let receiver = try LoopbackHTTPServer()
        defer { receiver.shutdown() }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            for (hook, variable) in [("stolen", "QT_TEST_SECRET"), ("slack", "QT_TEST_ALLOWED_TOKEN")] {
                try conn.query("""
                    SELECT add_alert_hook(\(hook), \(receiver.url("/ok").absoluteString), 'X-Token', \(variable), 'Bearer ')
                    """)
            }
            // A DLQ alert fires: threshold 0 and one dead job.
            let dead = try conn.query("SELECT enqueue_job('payments', 'charge')::text").scalar(String.self)
            try conn.query("SELECT update_queue_settings('payments', '{\"dlq_alert_threshold\": 0}'::jsonb)")
            try conn.query("SELECT fail_job(\(dead)::uuid, 'card declined', 'declined', null, false)")

            let (config, dir) = try configFile(#"{"handlers": {}, "alert_hook_secrets": ["QT_TEST_ALLOWED_TOKEN"]}"#)
            defer { try? FileManager.default.removeItem(at: dir) }
            let log = dir.appendingPathComponent("worker.log").path
            let worker = try QueuetopBinary.start(
                ["worker", "--queues", "elsewhere", "--concurrency", "1", "--config", config],
                environment: ["DATABASE_URL": db.conninfo, "QT_TEST_SECRET": "hunter2",
                              "QT_TEST_ALLOWED_TOKEN": "letmein"],
                stderrLog: log)
            var stopped = false
            defer { if !stopped { stop(worker) } }

            let failedOnce: Query = """
                SELECT count(*)::int FROM alert_deliveries d JOIN alert_notifications n ON n.id = d.notification_id
                WHERE d.hook = 'stolen' AND NOT d.ok AND n.status = 'failed'
                """
            let delivered = try PoolFixture.eventually(timeout: 30) {
                let sent = receiver.requests.contains { $0.headers["x-token"] == "Bearer letmein" }
                return try sent && PoolFixture.count(conn, failedOnce) == 1
            }
            let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(delivered, "worker log:\n\(logText)")
            // Not retried in a loop: several backoff periods later, still one attempt and no POST.
            Thread.sleep(forTimeInterval: 4)
            stop(worker)
            stopped = true

            let requests = receiver.requests
            #expect(requests.count == 1, "\(requests.map(\.headers))")
            for request in requests {
                #expect(!request.body.contains("hunter2"))
                #expect(!request.headers.values.contains { $0.contains("hunter2") }, "the worker sent a secret it was not allowed to")
            }
            let stolen = try conn.query("""
                SELECT d.error, d.attempt, n.status FROM alert_deliveries d
                JOIN alert_notifications n ON n.id = d.notification_id WHERE d.hook = 'stolen'
                """)
            #expect(stolen.count == 1)
            let reason: String? = try stolen.first?.decode("error")
            #expect(reason == "secret QT_TEST_SECRET (for header X-Token) is not allowed by this worker's config (alert_hook_secrets)")
            let slack = try PoolFixture.count(conn, "SELECT count(*)::int FROM alert_deliveries WHERE hook = 'slack' AND ok")
            #expect(slack == 1)
            let stored = try PoolFixture.count(conn, """
                SELECT count(*)::int FROM (SELECT row_to_json(d)::text t FROM alert_deliveries d UNION ALL
                  SELECT row_to_json(n)::text FROM alert_notifications n UNION ALL
                  SELECT row_to_json(a)::text FROM audit_log a) x
                WHERE t LIKE '%hunter2%' OR t LIKE '%letmein%'
                """)
            #expect(stored == 0)
            let finalLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(!finalLog.contains("hunter2") && !finalLog.contains("letmein"))
        }
    }

    /// An http handler configured with `user:password@` in its URL, against a receiver that
    /// answers 500 (and, for the connection-error path, a port nothing listens on): the password
    /// reaches no row a viewer can read and no line of the worker's log.
    @Test func credentialsInAHandlerURLReachNoRowAndNoLog() throws {
        guard binaryPresent() else { return }
        let receiver = try LoopbackHTTPServer()
        defer { receiver.shutdown() }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let refused = LoopbackHTTPServer.refusedPort()
            let (config, dir) = try configFile("""
                {"handlers": {
                  "call":   {"kind": "http", "url": "http://user:s3cret@127.0.0.1:\(receiver.port)/500", "timeout_s": 5},
                  "gone":   {"kind": "http", "url": "http://user:s3cret@127.0.0.1:\(refused)/x", "timeout_s": 5}
                }}
                """)
            defer { try? FileManager.default.removeItem(at: dir) }
            try conn.query("SELECT enqueue_job('web', 'call', '{\"n\": 1}', max_attempts => 1)")
            try conn.query("SELECT enqueue_job('web', 'gone', '{\"n\": 2}', max_attempts => 1)")
            let log = dir.appendingPathComponent("worker.log").path
            let worker = try QueuetopBinary.start(["worker", "--queues", "web", "--concurrency", "2", "--config", config],
                                                  environment: ["DATABASE_URL": db.conninfo], stderrLog: log)
            var stopped = false
            defer { if !stopped { stop(worker) } }
            let done = try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'dead_letter'") == 2
            }
            stop(worker)
            stopped = true
            let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(done, "worker log:\n\(logText)")
            #expect(receiver.requests.count >= 1, "the handler reached the receiver")

            // The failure is recorded, with the URL, but without the password.
            let details = try conn.query("SELECT job_type, error_details::text AS d FROM job_queue ORDER BY job_type")
                .map { (try $0.decode("job_type", as: String.self), try $0.decode("d", as: String?.self) ?? "") }
            #expect(details.count == 2)
            for (type, text) in details {
                #expect(text.contains("127.0.0.1:"), "\(type): the URL is recorded: \(text)")
                #expect(!text.contains("s3cret") && !text.contains("user:"), "\(type): \(text)")
            }
            for sql in ["SELECT row_to_json(j)::text FROM job_queue j",
                        "SELECT row_to_json(a)::text FROM job_attempts a",
                        "SELECT row_to_json(l)::text FROM audit_log l",
                        "SELECT row_to_json(w)::text FROM workers w"] {
                let rows = try conn.query(Query(unsafeSQL: sql)).map { try $0.decode(0, as: String.self) }
                #expect(!rows.contains { $0.contains("s3cret") }, "\(sql): \(rows)")
            }
            #expect(!logText.contains("s3cret"), "worker log:\n\(logText)")
        }
    }

    /// What the http handler hands on (message and error_details, on their way to the database
    /// and the log) carries the configured URL without its userinfo, for each kind of failure.
    @Test func theHTTPHandlerReportsFailuresWithoutTheURLsCredentials() throws {
        let receiver = try LoopbackHTTPServer()
        defer { receiver.shutdown() }
        let context = JobContext(job: WorkerJob(id: JobID("0190a4d2-0000-7000-8000-000000000001")!, queue: "q",
                                                type: "t", payload: "{}", attemptCount: 0))
        let urls = ["http://user:s3cret@127.0.0.1:\(receiver.port)/500",
                    "http://user:s3cret@127.0.0.1:\(receiver.port)/404",
                    "http://user:s3cret@127.0.0.1:\(receiver.port)/429",
                    "http://user:s3cret@127.0.0.1:\(LoopbackHTTPServer.refusedPort())/x"]
        for text in urls {
            let handler = HTTPHandler(url: try #require(URL(string: text)), timeout: 5)
            guard case let .failed(failure) = handler.handle(context) else {
                Issue.record("\(text) did not fail")
                continue
            }
            let shown = failure.message + " " + failure.detailsJSON
            #expect(shown.contains("127.0.0.1"), "\(shown)")
            #expect(!shown.contains("s3cret"), "\(shown)")
            #expect(!String(describing: handler).contains("s3cret"))
        }
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// queuetop behind PgBouncer (issue 17, item 6): the real binary, the suite's cluster and a
/// private PgBouncer. Transaction mode with one server connection makes every client share it,
/// so any session state one client leaves behind is what the next one gets.
@Suite(.serialized) struct PoolerTests: CountPolling {
    static let lostLine = "notifications are not delivered on this connection"

    /// A worker config binding job type `nap` to a sql function that takes a moment, with a
    /// statement timeout of 1 s. Returns the config path.
    static func napConfig(_ conn: Connection) throws -> String {
        try conn.executeScript("""
            CREATE FUNCTION public.pooler_nap(payload jsonb) RETURNS void LANGUAGE sql AS $$ SELECT pg_sleep(0.01) $$;
            """)
        let path = NSTemporaryDirectory() + "qt-pooler-\(UUID().uuidString).json"
        try #"{"handlers": {"nap": {"kind": "sql", "function": "public.pooler_nap", "timeout_s": 1}}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func enqueue(_ url: String, _ n: Int) throws {
        for _ in 0..<n {
            let r = try QueuetopBinary.run(["enqueue", "pooler", "--type", "nap", "--payload", "{}", "--db", url], timeout: 30)
            #expect(r.status == 0, "enqueue: \(r.stderr)")
        }
    }

    static func readLog(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func sessionStateOfTheDashboardAndASQLHandlerDoesNotLeakThroughATransactionPooler() throws {
        try TestDatabase.with { db in
            let bouncer = try PgBouncer(mode: .transaction, poolSize: 1)
            defer { bouncer.stop() }
            let pooled = try bouncer.config(db.config)
            let url = try pooled.unredactedConninfo()
            let direct = try db.connect()
            defer { direct.close() }
            let config = try Self.napConfig(direct)

            // A worker whose sql handler has a 1 s timeout works jobs through the pooler.
            let log = config + ".log"
            let worker = try QueuetopBinary.start(["worker", "--queues", "pooler", "--config", config, "--db", url], stderrLog: log)
            defer { if worker.isRunning { worker.terminate(); worker.waitUntilExit() } }
            try Self.enqueue(url, 5)
            let done = try Self.poll(direct, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'", timeout: 30) { $0 == 5 }
            #expect(done == 5, "the worker completes its jobs through the pooler: \(Self.readLog(log))")
            worker.terminate()
            worker.waitUntilExit()

            // A --read-only dashboard runs a few refreshes through the same pooler.
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": url])
            defer { tmux.close() }
            try tmux.launchDashboard("--read-only --refresh 0.5")
            let marked = tmux.waitFor(timeout: 15) { $0.contains("no LISTEN") }
            #expect(marked != nil, "the footer says LISTEN does not work: \(tmux.screen())")
            Thread.sleep(forTimeInterval: 2)
            try tmux.type("q")
            tmux.expectRestoredShell()

            // Another client, through the same single server connection: writes and a statement
            // longer than the handler's timeout both work.
            let other = try Connection.connect(pooled)
            defer { other.close() }
            #expect(try other.query("SELECT current_setting('default_transaction_read_only')").scalar(String.self) == "off")
            #expect(try other.query("SELECT current_setting('statement_timeout')").scalar(String.self) == "0")
            try other.executeScript("CREATE TABLE public.pooler_write (x int)")
            try other.execute("INSERT INTO public.pooler_write VALUES (1)")
            #expect(try other.query("SELECT count(*)::int FROM public.pooler_write").scalar(Int.self) == 1)
            try other.execute("SELECT pg_sleep(1.5)")
        }
    }

    /// The CLI's and the dashboard's client label (who the audit row says the person claims to
    /// be) travels as `application_name`, which PgBouncer keeps per client. A session setting
    /// stayed on the shared server connection and labelled the next client's actions.
    @Test func oneClientsAuditLabelNeverLandsOnAnotherClientsRowsThroughATransactionPooler() throws {
        try TestDatabase.with { db in
            let bouncer = try PgBouncer(mode: .transaction, poolSize: 1)
            defer { bouncer.stop() }
            let pooled = bouncer.config(db.config)
            let direct = try db.connect()
            defer { direct.close() }
            try direct.executeScript("INSERT INTO queues (name) VALUES ('emails'), ('billing')")

            let paused = try QueuetopBinary.run(["queue", "pause", "emails", "--db", try pooled.unredactedConninfo()], timeout: 30)
            #expect(paused.status == 0, "queue pause: \(paused.stderr)")

            // Another application, through the same single server connection, acts by RPC.
            let app = try Connection.connect(pooled.overriding("application_name", "billing-app"))
            defer { app.close() }
            try app.execute("SELECT \(qt: "pause_queue")('billing')")

            let labels = try direct.query("""
                SELECT filter->>'queue' AS queue, client_label FROM audit_log WHERE action = 'queue.pause' ORDER BY id
                """).map { (try $0.decode("queue", as: String.self), try $0.decode("client_label", as: String?.self)) }
            #expect(labels.map(\.0) == ["emails", "billing"])
            #expect(labels.first?.1 == OperatorIdentity.applicationName(), "the CLI's row names its user@host: \(labels)")
            #expect(labels.last?.1 == "billing-app", "the other client's row carries its own label: \(labels)")
        }
    }

    @Test func migrateTwiceThroughATransactionPoolerNeverHangs() throws {
        try TestDatabase.with { db in
            let bouncer = try PgBouncer(mode: .transaction, poolSize: 1)
            defer { bouncer.stop() }
            let url = try bouncer.config(db.config).unredactedConninfo()
            for round in 1...2 {
                let started = Date()
                let r = try QueuetopBinary.run(["migrate", "--db", url], timeout: 60)
                #expect(r.status == 0, "migrate #\(round) exited \(r.status) after \(Date().timeIntervalSince(started)) s: \(r.stderr)")
            }
        }
    }

    @Test func aWorkerBehindATransactionPoolerSaysNotificationsAreLostAndPolls() throws {
        try TestDatabase.with { db in
            let bouncer = try PgBouncer(mode: .transaction, poolSize: 1)
            defer { bouncer.stop() }
            let url = try bouncer.config(db.config).unredactedConninfo()
            let direct = try db.connect()
            defer { direct.close() }
            let config = try Self.napConfig(direct)
            let log = config + ".log"
            let worker = try QueuetopBinary.start(["worker", "--queues", "pooler", "--config", config, "--db", url], stderrLog: log)
            defer { if worker.isRunning { worker.terminate(); worker.waitUntilExit() } }
            try Self.enqueue(url, 3)
            let done = try Self.poll(direct, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'", timeout: 30) { $0 == 3 }
            #expect(done == 3, "jobs still complete, by polling: \(Self.readLog(log))")
            let status = try QueuetopBinary.run(["status", "--db", url], timeout: 30)
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains(Self.lostLine), "status says so: \(status.stdout)")
            worker.terminate()
            worker.waitUntilExit()
            let lines = Self.readLog(log).split(separator: "\n").filter { $0.contains(Self.lostLine) }
            #expect(lines.count == 1, "logged once: \(Self.readLog(log))")
            #expect(lines.first?.contains("falling back to polling every 1 s") == true)
        }
    }

    /// `status --json` and `status --watch` say whether LISTEN works too, not only the one-shot
    /// text; and `status --watch`, started with SIGTERM blocked as Foundation's Process does,
    /// still ends on SIGTERM.
    @Test func statusJSONAndWatchSayWhetherNotificationsAreDelivered() throws {
        try TestDatabase.with { db in
            let bouncer = try PgBouncer(mode: .transaction, poolSize: 1)
            defer { bouncer.stop() }
            let pooled = try bouncer.config(db.config).unredactedConninfo()
            func delivered(_ url: String) throws -> Any? {
                let r = try QueuetopBinary.run(["status", "--json", "--db", url], timeout: 30)
                #expect(r.status == 0, "\(r.stderr)")
                let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                return object?["notifications_delivered"]
            }
            #expect(try delivered(pooled) as? Bool == false)
            #expect(try delivered(db.conninfo) as? Bool == true)

            let started = Date()
            let watch = try QueuetopBinary.run(["status", "--watch", "0.5", "--db", pooled], timeout: 5)
            #expect(Date().timeIntervalSince(started) < 12, "SIGTERM ends status --watch (not the SIGKILL 10 s later)")
            let notes = watch.stdout.components(separatedBy: "\n").filter { $0.contains(Self.lostLine) }
            #expect(notes.count >= 2, "every print says so: \(watch.stdout)")
        }
    }

    @Test func aWorkerBehindASessionPoolerGetsNotifications() throws {
        try TestDatabase.with { db in
            let bouncer = try PgBouncer(mode: .session, poolSize: 40)
            defer { bouncer.stop() }
            let url = try bouncer.config(db.config).unredactedConninfo()
            let direct = try db.connect()
            defer { direct.close() }
            let config = try Self.napConfig(direct)
            let log = config + ".log"
            let worker = try QueuetopBinary.start(["worker", "--queues", "pooler", "--config", config, "--db", url], stderrLog: log)
            defer { if worker.isRunning { worker.terminate(); worker.waitUntilExit() } }
            Thread.sleep(forTimeInterval: 3)  // started, listening and checked
            var pickups: [Double] = []
            for n in 1...5 {
                try direct.execute("SELECT queuetop.enqueue_job('pooler', 'nap', '{}'::jsonb)")
                try Self.poll(direct, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'", timeout: 10) { $0 == n }
                Thread.sleep(forTimeInterval: 0.3)
            }
            pickups = try direct.query("SELECT extract(epoch FROM started_at - created_at)::float8 FROM job_queue ORDER BY created_at")
                .map { try $0.decode(0, as: Double.self) }
            #expect(pickups.count == 5)
            #expect(pickups.allSatisfy { $0 < 0.25 }, "pickup by notification, not the 1 s poll: \(pickups)")
            let status = try QueuetopBinary.run(["status", "--db", url], timeout: 30)
            #expect(!status.stdout.contains(Self.lostLine), "\(status.stdout)")
            worker.terminate()
            worker.waitUntilExit()
            #expect(!Self.readLog(log).contains(Self.lostLine), "\(Self.readLog(log))")
        }
    }
}

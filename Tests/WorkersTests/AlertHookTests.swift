import Foundation
import Testing
import Synchronization
import Postgres
import QueueStore
import TestSupport
import QueuetopLogging
@testable import Workers

/// Alert hooks against the real Postgres and a loopback HTTP receiver: a DLQ alert that fires
/// and clears is POSTed once each however many rounds see it; failures are recorded and retried
/// with backoff; secrets come from the environment and are never stored.
@Suite struct AlertHookTests {
    /// A queue whose DLQ alert threshold is 0, with one dead job: `dlq_above_threshold` fires.
    func fireDLQAlert(_ conn: Connection, queue: String = "payments") throws {
        let id = try JobStore(connection: conn).enqueue(NewJob(queue: queue, type: "charge")).id
        try conn.query("SELECT update_queue_settings(\(queue), '{\"dlq_alert_threshold\": 0}'::jsonb)")
        try JobStore(connection: conn).failJob(id: id, message: "card declined", errorType: "declined", retryable: false)
    }

    /// Raising the threshold above the DLQ size clears the alert.
    func clearDLQAlert(_ conn: Connection, queue: String = "payments") throws {
        try conn.query("SELECT update_queue_settings(\(queue), '{\"dlq_alert_threshold\": 10}'::jsonb)")
    }

    /// A loopback receiver, a fresh database and a connection to it, all closed afterwards.
    func withReceiver(_ body: (LoopbackHTTPServer, TestDatabase, Connection) throws -> Void) throws {
        let receiver = try LoopbackHTTPServer()
        defer { receiver.shutdown() }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try body(receiver, db, conn)
        }
    }

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func firingAndClearingAreDeliveredOnceEachWithTheSecretHeader() throws {
        try withReceiver { receiver, db, conn in
            let hooks = AlertHookStore(connection: conn)
            _ = try hooks.add(name: "ops", url: receiver.url("/ok").absoluteString, secretHeader: "Authorization",
                              secretEnv: "QT_TEST_HOOK_TOKEN", secretPrefix: "Bearer ")
            let deliverer = AlertDeliverer(environment: { ["QT_TEST_HOOK_TOKEN": "s3cret-token"] },
                                           allowedSecrets: ["QT_TEST_HOOK_TOKEN"], minSyncInterval: 0)
            try fireDLQAlert(conn)
            // Many refreshes see the same alert: one notification.
            for _ in 0..<4 { _ = try deliverer.round(conn) }
            #expect(receiver.requests.count == 1)
            let firing = json(receiver.requests[0].body)
            #expect(firing["event"] as? String == "firing")
            #expect(firing["kind"] as? String == "dlq_above_threshold")
            #expect(firing["queue"] as? String == "payments")
            #expect(firing["alert_key"] as? String == "dlq_above_threshold:payments")
            #expect(receiver.requests[0].headers["authorization"] == "Bearer s3cret-token")
            #expect(receiver.requests[0].headers["content-type"] == "application/json")

            try clearDLQAlert(conn)
            for _ in 0..<4 { _ = try deliverer.round(conn) }
            #expect(receiver.requests.count == 2)
            #expect(json(receiver.requests[1].body)["event"] as? String == "cleared")

            let deliveries = try hooks.deliveries()
            #expect(deliveries.map(\.event) == ["cleared", "firing"])
            #expect(deliveries.allSatisfy { $0.ok && $0.httpStatus == 200 && $0.notificationStatus == "delivered" })
            #expect(try hooks.lastDelivery()?.event == "cleared")
            // The secret's value is nowhere in the database.
            let stored = try conn.query("""
                SELECT count(*)::int FROM (SELECT row_to_json(h)::text t FROM alert_hooks h UNION ALL
                  SELECT row_to_json(a)::text FROM audit_log a UNION ALL SELECT row_to_json(n)::text FROM alert_notifications n) x
                WHERE t LIKE '%s3cret%'
                """).scalar(Int.self)
            #expect(stored == 0)
        }
    }

    @Test func aFailingReceiverIsRecordedAndRetriedWithBackoff() throws {
        try withReceiver { receiver, db, conn in
            let hooks = AlertHookStore(connection: conn)
            _ = try hooks.add(name: "flaky", url: receiver.url("/500").absoluteString)
            let deliverer = AlertDeliverer(minSyncInterval: 0)
            try fireDLQAlert(conn)
            _ = try deliverer.round(conn)
            var deliveries = try hooks.deliveries()
            #expect(deliveries.count == 1)
            #expect(!deliveries[0].ok && deliveries[0].httpStatus == 500 && deliveries[0].notificationStatus == "pending")
            #expect(deliveries[0].error?.hasPrefix("HTTP 500 from 127.0.0.1") == true)
            // Backing off: a round right away does not retry.
            _ = try deliverer.round(conn)
            #expect(receiver.requests.count == 1)
            // After the first backoff (1 s) it retries, and the next wait doubles.
            #expect(try PoolFixture.eventually(timeout: 5) { _ = try deliverer.round(conn); return receiver.requests.count == 2 })
            deliveries = try hooks.deliveries()
            #expect(deliveries.map(\.attempt) == [2, 1])
            let wait = try conn.query("""
                SELECT extract(epoch FROM next_attempt_at - now())::float8 FROM alert_notifications
                """).scalar(Double.self)
            #expect(wait > 1 && wait <= 2.1)
            // After the last allowed attempt it gives up: status failed, no more POSTs.
            try conn.query("UPDATE alert_notifications SET attempts = \(AlertHookStore.maxAttempts - 1), next_attempt_at = now()")
            _ = try deliverer.round(conn)
            #expect(try hooks.lastDelivery()?.notificationStatus == "failed")
            try conn.query("UPDATE alert_notifications SET next_attempt_at = now()")
            let before = receiver.requests.count
            _ = try deliverer.round(conn)
            #expect(receiver.requests.count == before)
        }
    }

    @Test func aMissingSecretIsAFailedDeliveryNamingTheVariable() throws {
        try withReceiver { receiver, db, conn in
            let hooks = AlertHookStore(connection: conn)
            _ = try hooks.add(name: "slack", url: receiver.url("/ok").absoluteString, secretHeader: "X-Token", secretEnv: "QT_UNSET_TOKEN")
            try fireDLQAlert(conn)
            _ = try AlertDeliverer(environment: { [:] }, allowedSecrets: ["QT_UNSET_TOKEN"], minSyncInterval: 0).round(conn)
            #expect(receiver.requests.isEmpty)
            let last = try hooks.lastDelivery()
            #expect(last?.ok == false && last?.error?.contains("QT_UNSET_TOKEN") == true && last?.notificationStatus == "pending")
        }
    }

    /// A hook is data any operator writes; the worker host decides which variables may leave it.
    /// A variable not on its allowlist is never read: the delivery fails for good, naming why.
    @Test func aSecretTheHostDoesNotAllowIsNeverReadAndNotRetried() throws {
        try withReceiver { receiver, db, conn in
            let hooks = AlertHookStore(connection: conn)
            _ = try hooks.add(name: "exfil", url: receiver.url("/ok").absoluteString, secretHeader: "X-Token", secretEnv: "QT_TEST_SECRET")
            try fireDLQAlert(conn)
            let reads = Mutex(0)
            let deliverer = AlertDeliverer(environment: { reads.withLock { $0 += 1 }; return ["QT_TEST_SECRET": "hunter2"] },
                                           allowedSecrets: ["SLACK_WEBHOOK_TOKEN"], minSyncInterval: 0)
            _ = try deliverer.round(conn)
            #expect(receiver.requests.isEmpty)
            #expect(reads.withLock { $0 } == 0, "the environment was read for a variable the host does not allow")
            let last = try hooks.lastDelivery()
            #expect(last?.ok == false && last?.notificationStatus == "failed")
            #expect(last?.error == "secret QT_TEST_SECRET (for header X-Token) is not allowed by this worker's config (alert_hook_secrets)")
            try conn.query("UPDATE alert_notifications SET next_attempt_at = now()")
            _ = try deliverer.round(conn)
            #expect(receiver.requests.isEmpty)
            #expect(try hooks.deliveries().count == 1)
        }
    }

    @Test func concurrentDeliverersSendOneNotification() throws {
        try withReceiver { receiver, db, conn in
            _ = try AlertHookStore(connection: conn).add(name: "ops", url: receiver.url("/ok").absoluteString)
            try fireDLQAlert(conn)
            // Six processes' worth of deliverers, each on its own connection and OS thread.
            let group = DispatchGroup()
            let failures = Mutex(0)
            for _ in 0..<6 {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        let c = try db.connect()
                        defer { c.close() }
                        for _ in 0..<3 { _ = try AlertDeliverer().round(c) }
                    } catch { failures.withLock { $0 += 1 } }
                }.start()
            }
            group.wait()
            #expect(failures.withLock { $0 } == 0)
            #expect(receiver.requests.count == 1)
            #expect(try conn.query("SELECT count(*)::int FROM alert_notifications").scalar(Int.self) == 1)
        }
    }

    @Test func aHookAddedWhileAnAlertFiresHearsOfIt() throws {
        try withReceiver { receiver, _, conn in
            try fireDLQAlert(conn)
            let deliverer = AlertDeliverer(minSyncInterval: 0)
            _ = try deliverer.round(conn)  // no hook yet: nothing to tell anyone
            #expect(try conn.query("SELECT count(*)::int FROM alert_notifications").scalar(Int.self) == 0)
            _ = try AlertHookStore(connection: conn).add(name: "late", url: receiver.url("/ok").absoluteString)
            _ = try deliverer.round(conn)
            #expect(receiver.requests.count == 1)
            #expect(json(receiver.requests.first?.body ?? "")["event"] as? String == "firing")
        }
    }

    @Test func theFleetComparesAlertsAtMostOncePerInterval() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try AlertHookStore(connection: conn).add(name: "ops", url: "http://127.0.0.1:\(LoopbackHTTPServer.refusedPort())/")
            let store = AlertHookStore(connection: conn)
            #expect(try store.syncAlertStates(minInterval: 60) == 0)  // first sync: no alert yet
            try fireDLQAlert(conn)
            // Synced a moment ago: the new alert waits for the interval to pass.
            #expect(try store.syncAlertStates(minInterval: 60) == 0)
            #expect(try store.syncAlertStates(minInterval: 0) == 1)
        }
    }

    @Test func historyPastRetentionIsPrunedButPendingNotificationsAreKept() throws {
        try withReceiver { receiver, _, conn in
            _ = try AlertHookStore(connection: conn).add(name: "ops", url: receiver.url("/ok").absoluteString)
            let deliverer = AlertDeliverer(minSyncInterval: 0)
            try fireDLQAlert(conn)
            _ = try deliverer.round(conn)       // firing: delivered
            try clearDLQAlert(conn)
            // cleared: the receiver moved away, so it cannot be delivered and stays pending.
            try conn.query("UPDATE alert_hooks SET url = \("http://127.0.0.1:\(LoopbackHTTPServer.refusedPort())/")")
            _ = try deliverer.round(conn)
            #expect(try conn.query("SELECT count(*)::int FROM alert_deliveries").scalar(Int.self) == 2)
            try conn.query("""
                UPDATE alert_notifications SET finished_at = now() - interval '31 days', created_at = now() - interval '31 days';
                """)
            try conn.query("UPDATE alert_sync SET pruned_at = now() - interval '2 hours'")
            _ = try AlertHookStore(connection: conn).syncAlertStates()
            let left = try conn.query("SELECT status FROM alert_notifications").map { try $0.decode("status", as: String.self) }
            #expect(left == ["pending"])
            #expect(try conn.query("SELECT count(*)::int FROM alert_deliveries").scalar(Int.self) == 1)
        }
    }

    @Test func hookInputIsCheckedAndChangesAreAudited() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let hooks = AlertHookStore(connection: conn)
            _ = try hooks.add(name: "ops", url: "https://hooks.example.com/T/1")
            let bad: [() throws -> Void] = [
                // Every viewer reads alert_hooks: credentials belong in a secret header.
                { _ = try hooks.add(name: "x", url: "https://user:pw@hooks.example.com/T/1") },
                { _ = try hooks.add(name: "x", url: "ftp://example.com") },
                { _ = try hooks.add(name: "x", url: "not a url") },
                { _ = try hooks.add(name: "x", url: "https://example.com", secretHeader: "Authorization") },
                { _ = try hooks.add(name: "x", url: "https://example.com", secretHeader: "Authorization", secretEnv: "1BAD") },
                { _ = try hooks.add(name: "ops", url: "https://example.com") },
                { try hooks.remove("nope") },
            ]
            for attempt in bad { #expect(throws: QueueStoreError.self) { try attempt() } }
            #expect(try hooks.list().map(\.name) == ["ops"])
            let audit = try AuditStore(connection: conn).list()
            #expect(audit.map(\.action) == ["alert_hook.add"])
            try hooks.remove("ops")
            #expect(try hooks.list().isEmpty)
        }
    }

    @Test func theWorkerPoolDeliversOnItsOwn() throws {
        try withReceiver { receiver, db, conn in
            _ = try AlertHookStore(connection: conn).add(name: "ops", url: receiver.url("/ok").absoluteString)
            try fireDLQAlert(conn)
            let pool = PoolFixture.pool(db, queues: ["elsewhere"])
            try pool.start()
            defer { pool.stop(grace: 1) }
            #expect(PoolFixture.eventually(timeout: 15) { receiver.requests.count >= 1 })
            #expect(json(receiver.requests.first?.body ?? "")["event"] as? String == "firing")
        }
    }
}

/// A worker on a database without migration 0008 keeps working jobs and says once that
/// schedules and alert hooks are off, instead of logging an error every second.
@Suite struct NotMigratedFeatureTests {
    @Test func aWorkerWithoutMigration0008WarnsOnceAndStillWorks() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.query("DROP FUNCTION lock_due_schedules(int)")
            try conn.query("DROP FUNCTION sync_alert_states(double precision)")
            let lines = Mutex<[String]>([])
            let pool = WorkerPool(configuration: WorkerPoolConfiguration(
                database: db.config, queues: ["plain"], concurrency: 2, handlers: HandlerTable(bindings: [:]),
                pollInterval: 0.2, logger: .queuetop("test.pool", level: .info, to: [LogCallback { r in lines.withLock { $0.append("\(r.level) \(r.message)") } }])))
            try pool.start()
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "plain", type: "noop"))
            let done = PoolFixture.eventually(timeout: 10) {
                (try? PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'")) == 1
            }
            Thread.sleep(forTimeInterval: 1.5)
            pool.stop(grace: 1)
            #expect(done)
            let logged = lines.withLock { $0 }
            #expect(logged.filter { $0.contains("schedules are off") }.count == 1)
            #expect(logged.filter { $0.contains("alert hooks are off") }.count == 1)
            #expect(!logged.contains { $0.hasPrefix("error") }, "\(logged)")
        }
    }
}

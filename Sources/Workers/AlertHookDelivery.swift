import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Postgres
import QueueStore

/// POSTs alert notifications to their hooks and records every attempt. Stateless between
/// rounds: what is due, leased and retried lives in alert_notifications, so any worker process
/// can deliver and a crash mid-POST only delays a notification by its lease.
struct AlertDeliverer: Sendable {
    /// Where header secrets come from: the delivering process's environment, read per delivery
    /// so that a value fixed by restarting the worker is used at once.
    var environment: @Sendable () -> [String: String] = { ProcessInfo.processInfo.environment }
    /// The variables this host lets a hook send (its config's `alert_hook_secrets`). A hook is
    /// data any operator can write, so the hook's `secret_env` alone decides nothing: a name not
    /// listed here is never looked up, and its delivery fails for good.
    var allowedSecrets: Set<String> = []
    var timeout: TimeInterval = 10
    /// The fleet compares alerts at most this often (tests use 0 to see every change at once).
    var minSyncInterval: TimeInterval = 0.9

    /// What one POST came to.
    struct Attempt: Sendable, Equatable {
        var ok: Bool
        var httpStatus: Int?
        var error: String?
        var durationMs: Int
        /// Retrying cannot help (the hook names a secret this host does not allow): the
        /// notification is marked failed now instead of coming back every backoff.
        var final = false
    }

    /// One round: sync alert states (one process at a time, by advisory lock), then deliver
    /// what is due. Returns the attempts made, for the log.
    func round(_ connection: Connection) throws -> [(PendingAlertNotification, Attempt)] {
        let store = AlertHookStore(connection: connection)
        try store.syncAlertStates(minInterval: minSyncInterval)
        var made: [(PendingAlertNotification, Attempt)] = []
        for notification in try store.claimNotifications() {
            let attempt = deliver(notification)
            try store.recordDelivery(id: notification.id, ok: attempt.ok, httpStatus: attempt.httpStatus,
                                     error: attempt.error, durationMs: attempt.durationMs, giveUp: attempt.final)
            made.append((notification, attempt))
        }
        return made
    }

    func deliver(_ n: PendingAlertNotification) -> Attempt {
        guard let url = URL(string: n.url) else {
            return Attempt(ok: false, httpStatus: nil, error: "hook URL does not parse", durationMs: 0)
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("queuetop", forHTTPHeaderField: "User-Agent")
        if let header = n.secretHeader, let variable = n.secretEnv {
            guard allowedSecrets.contains(variable) else {
                return Attempt(ok: false, httpStatus: nil,
                               error: "secret \(variable) (for header \(header)) is not allowed by this worker's config (alert_hook_secrets)",
                               durationMs: 0, final: true)
            }
            guard let secret = environment()[variable], !secret.isEmpty else {
                return Attempt(ok: false, httpStatus: nil,
                               error: "environment variable \(variable) (for header \(header)) is not set in the worker's environment",
                               durationMs: 0)
            }
            request.setValue(n.secretPrefix + secret, forHTTPHeaderField: header)
        }
        request.httpBody = Data(n.payload.raw.utf8)
        let started = Date()
        let (data, response, error) = send(request)
        let ms = Int(Date().timeIntervalSince(started) * 1000)
        let host = url.host ?? "?"
        if let error {
            return Attempt(ok: false, httpStatus: nil, error: "cannot reach \(host): \(redactingURLCredentials(error.localizedDescription))", durationMs: ms)
        }
        guard let http = response as? HTTPURLResponse else {
            return Attempt(ok: false, httpStatus: nil, error: "no HTTP response from \(host)", durationMs: ms)
        }
        if (200..<300).contains(http.statusCode) {
            return Attempt(ok: true, httpStatus: http.statusCode, error: nil, durationMs: ms)
        }
        let body = data.map { String(decoding: $0.prefix(500), as: UTF8.self) } ?? ""
        return Attempt(ok: false, httpStatus: http.statusCode, error: "HTTP \(http.statusCode) from \(host): \(body)", durationMs: ms)
    }

    /// A blocking POST with a hard deadline (the pool's threads are plain OS threads).
    private func send(_ request: URLRequest) -> (Data?, URLResponse?, (any Error)?) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.urlCache = nil
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let result = Mutex<(Data?, URLResponse?, (any Error)?)?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            result.withLock { $0 = (data, response, error) }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeout + 1) == .timedOut {
            task.cancel()
            _ = done.wait(timeout: .now() + 2)
            return (nil, nil, URLError(.timedOut))
        }
        return result.withLock { $0 } ?? (nil, nil, URLError(.unknown))
    }
}

extension WorkerPool {
    /// Seconds between alert rounds: an alert is announced within about this long of the
    /// health views showing it.
    static let alertRoundInterval: TimeInterval = 1

    /// The alert-hook thread: every process runs it; the sync lock and the notification lease
    /// make one process at a time do each piece of work.
    func alertLoop() {
        let slot = threadConnection("alerts")
        let deliverer = AlertDeliverer(allowedSecrets: configuration.alertHookSecrets)
        let stop = { self.isStopping }
        guard awaitMigration(slot: slot, feature: "alert hooks", { try AlertHookStore(connection: $0).isInstalled() }) else {
            slot.drop()
            return
        }
        while !isStopping {
            do {
                let attempts = try slot.run(stop: stop) { try deliverer.round($0) }
                for (n, attempt) in attempts where !attempt.ok {
                    log(.warning, "alert hook \(n.hook): delivery failed (attempt \(n.attempts + 1)): \(attempt.error ?? "?")")
                }
            } catch {
                continue  // the slot logged and backed off
            }
            interruptibleSleep(Self.alertRoundInterval, stop: stop)
        }
        slot.drop()
    }
}

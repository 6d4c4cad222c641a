import Foundation
import QueueStore

/// The figures of the status line and the outage banner, derived from state so every view and
/// the tests agree on them.
extension DashboardState {
    /// Live workers on every host (running or draining; stopped and lost ones do not count).
    public var statusWorkers: [WorkerInfo] {
        (snapshot?.workers ?? []).filter { $0.status == "running" || $0.status == "draining" }
    }

    /// Jobs the live workers hold right now, as they last reported (once a second).
    public var statusInFlight: Int { statusWorkers.reduce(0) { $0 + $1.inFlight } }

    /// Whole seconds until the next reconnect attempt ("disconnected — retrying in Ns"); nil
    /// while connected. Never negative: at 0 the retry is under way.
    public var reconnectCountdown: Int? {
        guard case .disconnected(_, let retryAt) = connection else { return nil }
        return max(0, Int(retryAt.timeIntervalSince(now).rounded(.up)))
    }

    /// Whole seconds since the data on screen was loaded; nil before the first load.
    public var secondsSinceRefresh: Int? {
        lastRefreshAt.map { max(0, Int(now.timeIntervalSince($0))) }
    }
}

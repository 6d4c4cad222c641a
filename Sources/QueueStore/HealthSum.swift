import Foundation

/// Health snapshots of several databases (contexts) added up: the dashboard's all view and
/// `status --all-contexts` (docs/SCALING.md). Pure arithmetic over what each database said; a
/// context that did not answer is simply absent and is marked by the caller.
public enum HealthSum {
    /// One row of the all view: a queue in one context, or a queue summed over every context
    /// that holds it (the shards of a group hold the same queue name).
    public struct Row: Sendable, Equatable {
        /// The one context of a per-context row; nil for a summed row.
        public var context: String?
        public var queue: String
        /// The contexts this row adds up, in name order.
        public var contexts: [String]
        public var pending: Int64 = 0
        public var processing: Int64 = 0
        public var deadLetter: Int64 = 0
        public var completedLastHour: Int64 = 0
        public var failedLastHour: Int64 = 0
        /// The oldest of the contexts' oldest pending jobs.
        public var oldestPendingSeconds: Int64 = 0
        /// Paused in every context it is in (a summed row paused on one shard only is not).
        public var paused = false
        public var backlog: Int64 { pending + processing }

        mutating func add(_ q: QueueHealth, first: Bool) {
            pending += q.counts.pending
            processing += q.counts.processing
            deadLetter += q.counts.deadLetter
            completedLastHour += q.lastHour.completed
            failedLastHour += q.lastHour.failed
            oldestPendingSeconds = max(oldestPendingSeconds, q.oldestPendingSeconds)
            paused = first ? q.paused : (paused && q.paused)
        }
    }

    /// The whole estate in four figures.
    public struct Totals: Sendable, Equatable {
        public var pending: Int64 = 0
        public var processing: Int64 = 0
        public var deadLetter: Int64 = 0
        public var oldestPendingSeconds: Int64 = 0
        public var backlog: Int64 { pending + processing }
    }

    /// An alert and the context it came from.
    public struct ContextAlert: Sendable, Equatable {
        public var context: String
        public var alert: Alert
    }

    /// One row per queue per context, by context then queue.
    public static func perContext(_ snapshots: [(context: String, snapshot: HealthSnapshot)]) -> [Row] {
        snapshots.sorted { $0.context < $1.context }.flatMap { entry in
            entry.snapshot.queues.map { q in
                var row = Row(context: entry.context, queue: q.name, contexts: [entry.context])
                row.add(q, first: true)
                return row
            }
        }
    }

    /// One row per queue name, summed over the contexts that hold it, by queue.
    public static func perQueue(_ snapshots: [(context: String, snapshot: HealthSnapshot)]) -> [Row] {
        var rows: [String: Row] = [:]
        for entry in snapshots.sorted(by: { $0.context < $1.context }) {
            for q in entry.snapshot.queues {
                var row = rows[q.name] ?? Row(context: nil, queue: q.name, contexts: [])
                row.add(q, first: row.contexts.isEmpty)
                row.contexts.append(entry.context)
                rows[q.name] = row
            }
        }
        return rows.values.sorted { $0.queue < $1.queue }
    }

    public static func totals(_ snapshots: [(context: String, snapshot: HealthSnapshot)]) -> Totals {
        var t = Totals()
        for q in snapshots.flatMap(\.snapshot.queues) {
            t.pending += q.counts.pending
            t.processing += q.counts.processing
            t.deadLetter += q.counts.deadLetter
            t.oldestPendingSeconds = max(t.oldestPendingSeconds, q.oldestPendingSeconds)
        }
        return t
    }

    /// Every context's alerts, worst kind first (`Alert.Kind.severityRank`), then by context
    /// and the database's own order.
    public static func alerts(_ snapshots: [(context: String, snapshot: HealthSnapshot)]) -> [ContextAlert] {
        snapshots.sorted { $0.context < $1.context }
            .flatMap { entry in entry.snapshot.alerts.map { ContextAlert(context: entry.context, alert: $0) } }
            .enumerated()
            .sorted { ($0.element.alert.kind.severityRank, $0.offset) < ($1.element.alert.kind.severityRank, $1.offset) }
            .map(\.element)
    }
}

extension Alert.Kind {
    /// Worst first: an open circuit stops a queue, silent workers stop everything, a DLQ over
    /// its threshold loses work to triage, then a high error rate, then an old backlog. A kind
    /// this build does not know ranks last.
    public var severityRank: Int {
        [Alert.Kind.circuitOpen: 0, .workerSilent: 1, .dlqAboveThreshold: 2, .errorRateHigh: 3, .oldestPendingTooOld: 4][self] ?? 5
    }
}

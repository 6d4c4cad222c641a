import Contexts
import Foundation
import Postgres
import QueueStore

/// `status --all-contexts`: every context's health summary read at the same time (each on its
/// own connection, from its replica when it has one), then added up (`HealthSum`). Only `--json`,
/// which prints each context's whole `status --json` document, also reads the whole snapshot
/// (in the same call, decoded by nobody but JSONSerialization). A context that
/// does not answer is listed as disconnected with its reason and adds nothing; the others are
/// printed as usual.
enum StatusAllContexts {
    /// One context's answer: its summary (and with `--json` its `status --json` document), or why not.
    struct Reading: Sendable {
        var context: ContextDefinition
        var json: String?
        var summary: HealthSummary?
        var standby: StandbyStatus?
        var error: String?
    }

    static func read(_ file: ContextsFile, options: ConnectionOptions, wholeSnapshots: Bool) -> [Reading] {
        FanOut.map(file.contexts) { context in
            do {
                let conn = try Connection.connect(try options.config(for: context, write: false))
                defer { conn.close() }
                let health = HealthStore(connection: conn)
                let (json, summary): (String?, HealthSummary) = wholeSnapshots
                    ? try health.snapshotJSONAndSummary() : (nil, try health.summary())
                let standby = try ServerRoleStore(connection: conn).standby()
                return Reading(context: context, json: json.map { StatusReport.json($0, standby: standby) },
                               summary: summary, standby: standby)
            } catch {
                return Reading(context: context, error: "\(error)")
            }
        }
    }

    private static func answered(_ readings: [Reading]) -> [(context: String, summary: HealthSummary)] {
        readings.compactMap { r in r.summary.map { (r.context.name, $0) } }
    }

    static func json(_ readings: [Reading]) -> AllContextsJSON {
        let snapshots = answered(readings)
        let totals = HealthSum.totals(snapshots)
        return AllContextsJSON(
            contexts: readings.map { r in
                ContextJSON(name: r.context.name, state: r.summary == nil ? "disconnected" : "ok",
                            reads_from: r.context.readsFrom,
                            error: r.error.map { SafeText.oneLine($0) }, status: r.json.map(EmbeddedJSON.init))
            },
            total: TotalJSON(pending: totals.pending, processing: totals.processing, backlog: totals.backlog,
                             dead_letter: totals.deadLetter, oldest_pending_seconds: totals.oldestPendingSeconds,
                             queues: HealthSum.perQueue(snapshots).map { QueueRowJSON($0, context: nil) }),
            queues: HealthSum.perContext(snapshots).map { QueueRowJSON($0, context: $0.context ?? "") },
            alerts: HealthSum.alerts(snapshots).map {
                AlertJSON(context: $0.context, kind: $0.alert.kind.rawValue, queue: $0.alert.queue, message: $0.alert.message)
            },
            disconnected: readings.filter { $0.summary == nil }.map(\.context.name))
    }

    /// `status --all-contexts --json`: each context's own `status --json` under `status`, the
    /// sums, and every alert naming its context.
    struct AllContextsJSON: Encodable {
        let contexts: [ContextJSON]
        let total: TotalJSON
        let queues: [QueueRowJSON]
        let alerts: [AlertJSON]
        let disconnected: [String]
    }

    struct ContextJSON: Encodable {
        let name: String
        let state: String
        let reads_from: String
        @OrNull var error: String?
        @OrNull var status: EmbeddedJSON?
    }

    struct TotalJSON: Encodable {
        let pending: Int64
        let processing: Int64
        let backlog: Int64
        let dead_letter: Int64
        let oldest_pending_seconds: Int64
        let queues: [QueueRowJSON]
    }

    /// A queue's row: summed over its shards (no `context`), or one context's.
    struct QueueRowJSON: Encodable {
        let queue: String
        let context: String?
        let contexts: [String]
        let pending: Int64
        let processing: Int64
        let dead_letter: Int64
        let oldest_pending_seconds: Int64
        let completed_last_hour: Int64
        let failed_last_hour: Int64
        let paused: Bool

        init(_ r: HealthSum.Row, context: String?) {
            queue = r.queue; self.context = context; contexts = r.contexts; pending = r.pending
            processing = r.processing; dead_letter = r.deadLetter; oldest_pending_seconds = r.oldestPendingSeconds
            completed_last_hour = r.completedLastHour; failed_last_hour = r.failedLastHour; paused = r.paused
        }
    }

    struct AlertJSON: Encodable {
        let context: String
        let kind: String
        @OrNull var queue: String?
        let message: String
    }

    static func text(_ readings: [Reading], file: ContextsFile) -> String {
        let snapshots = answered(readings)
        let totals = HealthSum.totals(snapshots)
        var out = ["queuetop status, all contexts (\(SafeText.oneLine(file.path)))"]
        for r in readings {
            if let error = r.error {
                out.append("  \(r.context.name): disconnected: \(StatusReport.oneLine(error, max: 100))")
            } else if let s = r.summary {
                let replica = r.standby.map { "  " + StandbyTextLine.short($0) } ?? ""
                out.append("  \(r.context.name): ok, \(StatusReport.timestamp(s.generatedAt))\(r.context.replica == nil ? "" : ", reads from the replica")\(replica)")
            }
        }
        out.append("")
        out.append("TOTAL  backlog \(StatusReport.count(totals.backlog)) (pending \(StatusReport.count(totals.pending)), running \(StatusReport.count(totals.processing)))"
                   + "  DLQ \(StatusReport.count(totals.deadLetter))  oldest \(StatusReport.oldest(totals.oldestPendingSeconds, pending: totals.pending))")
        out.append("")
        var rows = [["CONTEXT", "QUEUE", "STATE", "PENDING", "RUNNING", "DLQ", "OLDEST"]]
        for r in HealthSum.perContext(snapshots) {
            rows.append([r.context ?? "", SafeText.oneLine(r.queue), r.paused ? "paused" : "active", StatusReport.count(r.pending),
                         StatusReport.count(r.processing), StatusReport.count(r.deadLetter), StatusReport.oldest(r.oldestPendingSeconds, pending: r.pending)])
        }
        if rows.count == 1 { out.append("no queues") } else { out += StatusReport.table(rows) }
        out.append("")
        out.append("ALERTS")
        let alerts = HealthSum.alerts(snapshots)
        if alerts.isEmpty { out.append("  none") }
        for a in alerts { out.append("  ! \(a.context): [\(a.alert.kind)] \(SafeText.oneLine(a.alert.message))") }
        return out.joined(separator: "\n")
    }
}

/// A standby's state in a few words for one context's line.
enum StandbyTextLine {
    static func short(_ s: StandbyStatus) -> String {
        "replica " + (s.lagSeconds.map { "lag \(StatusReport.duration($0))" } ?? s.replayState.replacingOccurrences(of: "_", with: " "))
    }
}

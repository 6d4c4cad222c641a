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

    static func json(_ readings: [Reading]) -> Any {
        let snapshots = answered(readings)
        let totals = HealthSum.totals(snapshots)
        func row(_ r: HealthSum.Row) -> [String: Any] {
            ["queue": r.queue, "contexts": r.contexts, "pending": r.pending, "processing": r.processing,
             "dead_letter": r.deadLetter, "oldest_pending_seconds": r.oldestPendingSeconds,
             "completed_last_hour": r.completedLastHour, "failed_last_hour": r.failedLastHour, "paused": r.paused]
        }
        return [
            "contexts": readings.map { r -> [String: Any] in
                var entry: [String: Any] = ["name": r.context.name, "state": r.summary == nil ? "disconnected" : "ok",
                                            "reads_from": r.context.replica == nil ? "primary" : "replica"]
                entry["error"] = r.error.map { SafeText.oneLine($0) } ?? NSNull()
                entry["status"] = r.json.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } ?? NSNull()
                return entry
            },
            "total": ["pending": totals.pending, "processing": totals.processing, "backlog": totals.backlog,
                      "dead_letter": totals.deadLetter, "oldest_pending_seconds": totals.oldestPendingSeconds,
                      "queues": HealthSum.perQueue(snapshots).map(row)] as [String: Any],
            "queues": HealthSum.perContext(snapshots).map { r in row(r).merging(["context": r.context ?? ""]) { a, _ in a } },
            "alerts": HealthSum.alerts(snapshots).map { a -> [String: Any] in
                ["context": a.context, "kind": a.alert.kind.rawValue, "queue": a.alert.queue ?? NSNull(), "message": a.alert.message]
            },
            "disconnected": readings.filter { $0.summary == nil }.map(\.context.name),
        ] as [String: Any]
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
                   + "  DLQ \(StatusReport.count(totals.deadLetter))  oldest \(StatusReport.duration(Double(totals.oldestPendingSeconds)))")
        out.append("")
        var rows = [["CONTEXT", "QUEUE", "STATE", "PENDING", "RUNNING", "DLQ", "OLDEST"]]
        for r in HealthSum.perContext(snapshots) {
            rows.append([r.context ?? "", SafeText.oneLine(r.queue), r.paused ? "paused" : "active", StatusReport.count(r.pending),
                         StatusReport.count(r.processing), StatusReport.count(r.deadLetter), StatusReport.duration(Double(r.oldestPendingSeconds))])
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

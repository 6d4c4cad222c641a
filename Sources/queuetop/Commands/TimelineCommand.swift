import ArgumentParser
import Foundation
import Postgres
import QueueStore
import TerminalUI

/// `queuetop mark "deploy v42"`: puts a mark on the incident timeline. Apps and CI that hold no
/// queuetop binary call the same SQL function, `mark_event(label, kind)`.
struct MarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark",
        abstract: "Put a deploy (or other) mark on the incident timeline and the throughput charts.",
        discussion: HelpText.reflow("""
            The mark is stored with the database login role that made it. From an app or CI:
              SELECT queuetop.mark_event('deploy v42', 'deploy');
            (operators and producers may call it).
            """))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "One line, at most 200 characters, e.g. \"deploy v42\".") var label: String
    @Option(name: .long, help: "A short lower-case word: deploy, release, config, incident, note…") var kind = "deploy"
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        let conn = try connection.connectToWrite()
        defer { conn.close() }
        let mark = try cliErrors { try TimelineStore(connection: conn).mark(label, kind: kind) }
        if json {
            printJSON(MarkJSON(id: mark.id, at: isoTime(mark.at), kind: mark.kind, label: mark.label,
                                         db_role: mark.databaseRole))
        } else {
            print("marked \(safe: mark.kind) \"\(safe: mark.label)\" at \(isoTime(mark.at)) (#\(mark.id))")
        }
    }
}

/// `queuetop timeline [--since 2h]`: marks, alerts fired and cleared, and operator actions,
/// newest first.
struct TimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "The incident timeline: deploy marks, alerts fired and cleared, operator actions, newest first.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "How far back: 90s, 10m, 2h, 1d (default 24h).") var since = "24h"
    @Option(name: .long, help: "At most this many entries (1…1000).") var limit = 200
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        let seconds = try DurationArgument.seconds(since, option: "--since")
        guard (1...TimelineStore.maximumRows).contains(limit) else {
            throw CLIError("--limit \(limit): expected 1…\(TimelineStore.maximumRows)")
        }
        let conn = try connection.connect()
        defer { conn.close() }
        let entries = try cliErrors {
            try TimelineStore(connection: conn).list(since: Date().addingTimeInterval(-Double(seconds)), limit: limit)
        }
        if json { printJSON(entries.map(TimelineJSON.init)); return }
        if entries.isEmpty {
            print("nothing on the timeline in the last \(since) (add a mark with `queuetop mark \"deploy v42\"`)")
            return
        }
        // Six tab-separated fields on every line, "-" where an entry has none (a mark names no
        // queue, an alert no actor): a field left out shifted the rest, so `cut -f3` gave a
        // queue on one line and a summary on the next.
        for e in entries {
            let who = e.actor.map { "by \(SafeText.oneLine($0))" } ?? "-"
            let queue = e.queue.map { SafeText.oneLine($0) } ?? "-"
            let opens = e.jobID.map { "job \($0.uuidString.lowercased())" } ?? (e.source == .audit ? "audit #\(e.id)" : "-")
            // A cancel in words, as the dashboard's Timeline says it (CancelAuditText), not its
            // filter JSON; ASCII separators, like the rest of the line.
            let what = CancelAuditText.summary(e, dot: " - ") ?? e.summary
            print([isoTime(e.at), SafeText.oneLine(e.event), queue, SafeText.oneLine(what), who, opens].joined(separator: "\t"))
        }
    }
}

private struct MarkJSON: Encodable {
    let id: Int64
    let at: String
    let kind: String
    let label: String
    let db_role: String
}

private struct TimelineJSON: Encodable {
    let at: String
    let source: String
    let event: String
    let queue: String?
    let actor: String?
    let summary: String
    let id: Int64
    let job_id: String?
    let affected: Int64

    init(_ e: TimelineEntry) {
        at = isoTime(e.at); source = e.source.rawValue; event = e.event; queue = e.queue; actor = e.actor
        summary = e.summary; id = e.id; job_id = e.jobID?.uuidString.lowercased(); affected = e.affected
    }

    /// Written out so that a missing queue, actor or job id is `null`, not a missing key (the
    /// synthesized encoder leaves nil optionals out): every row has the same keys for scripts.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(at, forKey: .at); try c.encode(source, forKey: .source); try c.encode(event, forKey: .event)
        try c.encode(queue, forKey: .queue); try c.encode(actor, forKey: .actor); try c.encode(summary, forKey: .summary)
        try c.encode(id, forKey: .id); try c.encode(job_id, forKey: .job_id); try c.encode(affected, forKey: .affected)
    }
    enum CodingKeys: String, CodingKey { case at, source, event, queue, actor, summary, id, job_id, affected }
}

import ArgumentParser
import Contexts
import Foundation
import Postgres
import QueueStore

/// `queuetop contexts list [--json]`: the databases of the contexts file and whether each one
/// answers now (docs/SCALING.md).
struct ContextsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contexts",
        abstract: "List the databases of the contexts file and their connection state.",
        subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "One line per context: where reads and writes go, labels, and whether each server answers.",
            discussion: HelpText.reflow("""
                Every context is tried at the same time, on its own connection (at most 5 s each). \
                STATE is ok, standby (with its replay lag) or the reason it cannot be reached; a \
                context with only a replica is read-only. Exit status 0 even when some are down: \
                the list is the answer.
                """))

        @OptionGroup var connection: ConnectionOptions
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let file = try connection.contextsFile()
            let options = connection
            let probes = FanOut.map(file.contexts) { context in
                Probe(context: context,
                      primary: context.primary == nil ? nil : ServerProbe.check { try options.config(for: context, write: true) },
                      replica: context.replica == nil ? nil : ServerProbe.check { try options.config(for: context, write: false) })
            }
            if json {
                printJSON(ListJSON(file: file.path, contexts: probes.map(\.json)))
                return
            }
            print("contexts from \(SafeText.oneLine(file.path))")
            guard !probes.isEmpty else { print("no contexts"); return }
            var rows = [["CONTEXT", "PRIMARY", "REPLICA", "LABELS", "WHERE"]]
            for p in probes {
                rows.append([p.context.name, p.primary?.text ?? "none (read-only)", p.replica?.text ?? "-",
                             p.context.labelText.isEmpty ? "-" : SafeText.oneLine(p.context.labelText), p.whereText])
            }
            StatusReport.table(rows).forEach { print($0) }
            for group in file.groups {
                print("group \(group.name): queue \(SafeText.oneLine(group.queue)) sharded over \(group.shards.joined(separator: ", "))")
            }
        }
    }

    /// `contexts list --json`.
    struct ListJSON: Encodable {
        let file: String
        let contexts: [ProbeJSON]
    }

    struct ProbeJSON: Encodable {
        let name: String
        let read_only: Bool
        let reads_from: String
        @OrNull var region: String?
        @OrNull var shard: String?
        @OrNull var primary: ServerProbe.JSON?
        @OrNull var replica: ServerProbe.JSON?
        @OrNull var primary_connection: String?
        @OrNull var replica_connection: String?
    }

    /// One context's two servers, as tried now.
    struct Probe: Sendable {
        var context: ContextDefinition
        var primary: ServerProbe?
        var replica: ServerProbe?

        var whereText: String {
            let primary = (try? context.writeConnection().endpoint) ?? "-"
            let replica = (try? context.replica.map { try ConnectionConfig($0).endpoint }) ?? nil
            return replica.map { "reads \($0), writes \(context.isReadOnly ? "refused" : primary)" } ?? primary
        }

        var json: ProbeJSON {
            func redacted(_ s: String?) -> String? { s.flatMap { try? ConnectionConfig($0).redacted } }
            return ProbeJSON(name: context.name, read_only: context.isReadOnly,
                             reads_from: context.readsFrom,
                             region: context.region, shard: context.shard, primary: primary?.json, replica: replica?.json,
                             primary_connection: redacted(context.primary), replica_connection: redacted(context.replica))
        }
    }
}

/// Whether one server answers, and as what: a primary, a standby with its lag, or why not.
struct ServerProbe: Sendable {
    enum State: Sendable { case ok, standby(StandbyStatus), unreachable(String) }
    var state: State

    static func check(_ config: () throws -> ConnectionConfig) -> ServerProbe {
        do {
            var config = try config()
            config.connectTimeoutSeconds = 5
            let conn = try Connection.connect(config)
            defer { conn.close() }
            if let standby = try ServerRoleStore(connection: conn).standby() { return ServerProbe(state: .standby(standby)) }
            return ServerProbe(state: .ok)
        } catch {
            return ServerProbe(state: .unreachable("\(error)"))
        }
    }

    var text: String {
        switch state {
        case .ok: return "ok"
        case .standby(let s): return "standby, " + (s.lagSeconds.map { "lag \(StatusReport.duration($0))" } ?? s.replayState.replacingOccurrences(of: "_", with: " "))
        case .unreachable(let reason): return "disconnected: " + StatusReport.oneLine(reason, max: 60)
        }
    }

    /// A server's state in `contexts list --json`: `lag_seconds` only for a standby, `error`
    /// only for a server that did not answer.
    struct JSON: Encodable {
        let state: String
        var replay: String? = nil
        var lag_seconds: Double?? = nil
        var error: String? = nil

        private enum CodingKeys: String, CodingKey { case state, replay, lag_seconds, error }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(state, forKey: .state)
            try c.encodeIfPresent(replay, forKey: .replay)
            if case let .some(lag) = lag_seconds { try c.encode(lag, forKey: .lag_seconds) }  // nil lag is null
            try c.encodeIfPresent(error, forKey: .error)
        }
    }

    var json: JSON {
        switch state {
        case .ok: return JSON(state: "ok")
        case .standby(let s): return JSON(state: "standby", replay: s.replayState, lag_seconds: .some(s.lagSeconds))
        case .unreachable(let reason): return JSON(state: "disconnected", error: SafeText.oneLine(reason))
        }
    }
}

import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop workers list|quiet|resume|drain`: see the fleet and steer it. Commands are state in
/// the registry row each worker reads every second (docs/WORKERS.md), audited by the SQL.
struct WorkersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List workers; quiet, resume or drain them.",
        discussion: HelpText.reflow("""
            quiet: stop claiming, keep running the jobs already held. resume: claim again.
            drain: finish the jobs held, then exit 0. Each takes WORKER (an id from `workers list`),
            --host H (every worker on that host) or --all, needs the queuetop_operator role, and is audited.
            """),
        subcommands: [List.self, Quiet.self, Resume.self, Drain.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every registered worker: state (running, quiet, draining, stopped, lost), jobs held, last heartbeat.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(name: .long, help: "Print JSON.") var json = false
        func run() throws {
            let conn = try connection.connect()
            defer { conn.close() }
            let workers = try cliErrors { try WorkerFleetStore(connection: conn).list() }
            let now = Date()
            if json { printJSON(workers.map(WorkersReport.JSONRow.init)); return }
            if workers.isEmpty { print("no workers registered (start one with `queuetop worker`)"); return }
            for w in workers { print(WorkersReport.line(w, now: now)) }
        }
    }

    struct Quiet: WorkerActionCommand {
        static let configuration = CommandConfiguration(abstract: "Stop workers claiming new jobs; the jobs they hold run to the end.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: WorkerTargetOptions
        static let kind = WorkerCommandKind.quiet
    }

    struct Resume: WorkerActionCommand {
        static let configuration = CommandConfiguration(abstract: "Let quiet workers claim jobs again.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: WorkerTargetOptions
        static let kind = WorkerCommandKind.resume
    }

    struct Drain: WorkerActionCommand {
        static let configuration = CommandConfiguration(abstract: "Let workers finish the jobs they hold, then exit.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: WorkerTargetOptions
        static let kind = WorkerCommandKind.drain
    }
}

/// WORKER | --host H | --all: exactly one of them, so a forgotten argument never means "all".
struct WorkerTargetOptions: ParsableArguments {
    @Argument(help: "A worker id, as `queuetop workers list` prints it.") var worker: String?
    @Option(name: .long, help: "Every worker on this host.") var host: String?
    @Flag(name: .long, help: "Every worker.") var all = false

    func validate() throws {
        let given = [worker != nil, host != nil, all].filter { $0 }.count
        guard given == 1 else { throw ValidationError("name the workers: WORKER, --host H or --all (exactly one)") }
    }

    var target: WorkerTarget {
        if let worker { return .worker(worker) }
        if let host { return .host(host) }
        return .all
    }
}

/// quiet / resume / drain: one command, one audit row, one line saying what changed.
protocol WorkerActionCommand: ParsableCommand {
    var connection: ConnectionOptions { get }
    var target: WorkerTargetOptions { get }
    static var kind: WorkerCommandKind { get }
}

extension WorkerActionCommand {
    func run() throws {
        let conn = try connection.connectToWrite()
        defer { conn.close() }
        let store = WorkerFleetStore(connection: conn)
        let changed = try cliErrors { try store.command(Self.kind, target.target) }
        // When a named worker was left as it was, say why: it is already in that state, or one
        // the command does not apply to (a draining worker cannot be quieted or resumed).
        let status = changed == 0 ? (try? store.list())?.first { w in
            if case .worker(let id) = target.target { return w.id == id } else { return false }
        }?.status : nil
        print(WorkersReport.outcome(Self.kind, target.target, changed: changed, statusOfNamed: status))
    }
}

/// What `workers` prints. Every value from the database goes through `\(safe:)`.
enum WorkersReport {
    static func line(_ w: WorkerInfo, now: Date) -> String {
        let queues = w.queues.isEmpty ? "(all queues)" : w.queues.joined(separator: ",")
        return "\(safe: w.id)\t\(w.status)\thost \(safe: w.host ?? "?")\tpid \(w.pid.map(String.init) ?? "?")"
            + "\tqueues \(safe: queues)\tin flight \(w.inFlight)/\(w.concurrency.map(String.init) ?? "?")"
            + "\tbuffered \(w.buffered.map(String.init) ?? "?")"
            + "\tseen \(StatusReport.duration(max(0, now.timeIntervalSince(w.lastSeen)))) ago"
            + "\tup \(StatusReport.duration(max(0, now.timeIntervalSince(w.startedAt))))"
    }

    /// One worker of `workers list --json` (unknown host, pid or concurrency: `null`).
    struct JSONRow: Encodable {
        let w: WorkerInfo
        enum CodingKeys: String, CodingKey {
            case id, status, host, pid, queues, concurrency, inFlight = "in_flight", buffered, startedAt = "started_at", lastSeen = "last_seen"
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(w.id, forKey: .id)
            try c.encode(w.status, forKey: .status)
            try c.encode(w.host, forKey: .host)
            try c.encode(w.pid, forKey: .pid)
            try c.encode(w.queues, forKey: .queues)
            try c.encode(w.concurrency, forKey: .concurrency)
            try c.encode(w.inFlight, forKey: .inFlight)
            try c.encode(w.buffered, forKey: .buffered)
            try c.encode(isoTime(w.startedAt), forKey: .startedAt)
            try c.encode(isoTime(w.lastSeen), forKey: .lastSeen)
        }
    }

    static func outcome(_ kind: WorkerCommandKind, _ target: WorkerTarget, changed: Int, statusOfNamed: String?) -> String {
        let verb: String = switch kind {
        case .quiet: "quieted"
        case .resume: "resumed"
        case .drain: "draining"
        }
        let whom: String = switch target {
        case .worker(let id): "worker \(SafeText.oneLine(id))"
        case .host(let host): changed == 1 ? "1 worker on host \(SafeText.oneLine(host))" : "\(changed) workers on host \(SafeText.oneLine(host))"
        case .all: changed == 1 ? "1 worker" : "\(changed) workers"
        }
        if changed > 0 {
            let note = kind == .drain ? " (each finishes its jobs, then exits)" : ""
            return "\(verb) \(whom)\(note)"
        }
        switch target {
        case .worker:
            let status = statusOfNamed ?? "gone"
            return "\(whom) left as it was: it is \(status) (\(kind.rawValue) applies to \(kind.appliesTo.joined(separator: " or ")) workers)"
        case .host, .all:
            return "no worker changed: none \(target == .all ? "is" : "on that host is") \(kind.appliesTo.joined(separator: " or "))"
        }
    }
}

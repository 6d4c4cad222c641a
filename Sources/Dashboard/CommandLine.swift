import Foundation

/// The `:` command line, k9s style: `:dlq`, `:queue emails`, `:job 0193…`, `:pause emails`, `:q`.
func handleCommandKey(_ state: inout DashboardState, _ key: Key) -> [Effect] {
    var text = state.commandLine ?? ""
    switch key {
    case .escape:
        state.commandLine = nil
        return []
    case .backspace:
        if text.isEmpty { state.commandLine = nil; return [] }
        text.removeLast()
    case .enter:
        state.commandLine = nil
        return runCommand(&state, text)
    case .character(let c) where text.count < 120:
        text.append(c)
    default:
        break
    }
    state.commandLine = text
    return []
}

/// The commands `:` accepts, for help and error messages.
public let dashboardCommands = [
    "overview", "queue NAME", "job ID", "dlq", "leads", "workers", "audit", "schedules", "log", "timeline",
    "dump FILE", "dump! FILE",
    "pause NAME", "resume NAME", "scale NAME N", "trigger NAME", "refresh SECONDS", "ctx [NAME]", "all", "help", "q",
]

func runCommand(_ state: inout DashboardState, _ line: String) -> [Effect] {
    let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    guard let verb = words.first?.lowercased() else { return [] }
    let args = Array(words.dropFirst())
    func fail(_ text: String) -> [Effect] {
        state.flash = Flash(text, kind: .error, at: state.now)
        return []
    }
    func knownQueue(_ name: String?) -> String? {
        guard let name else { return nil }
        return state.snapshot?.queues.contains { $0.name == name } == true ? name : nil
    }
    if let effects = runContextCommand(&state, verb: verb, args: args) { return effects }
    switch verb {
    case "q", "quit", "q!":
        state.quitting = true
        return [.quit]
    case "help", "?":
        state.showHelp = true
        return []
    case "overview", "home", "o":
        return switchScreen(&state, to: .overview)
    case "dlq", "dead", "deadletter":
        state.dlqLevel = .groups
        return switchScreen(&state, to: .dlq)
    case "leads", "migrations":
        return switchScreen(&state, to: .leads)
    case "workers", "w":
        return switchScreen(&state, to: .workers)
    case "audit":
        return switchScreen(&state, to: .audit)
    case "schedules", "schedule", "cron":
        return switchScreen(&state, to: .schedules)
    case "log", "logs":
        return switchScreen(&state, to: .log)
    case "timeline", "events", "tl":
        return switchScreen(&state, to: .timeline)
    case "dump", "dump!":
        // The path keeps its case: only the verb is lowered.
        return dumpCommand(&state, Array(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().map(String.init)),
                           overwrite: verb == "dump!")
    case "queue", "queues":
        guard let name = args.first else { return switchScreen(&state, to: .overview) }
        guard let queue = knownQueue(name) else { return fail("unknown queue '\(name)'") }
        state.selectedQueue = queue
        return switchScreen(&state, to: .queue)
    case "job":
        return openJob(&state, args.first)
    case "pause", "resume", "trigger":
        guard let name = args.first else { return fail(":\(verb) needs a queue name") }
        guard let queue = knownQueue(name) else { return fail("unknown queue '\(name)'") }
        let action: OperatorAction = verb == "pause" ? .pause(queue: queue) : verb == "resume" ? .resume(queue: queue) : .trigger(queue: queue)
        return request(&state, action)
    case "scale":
        guard args.count == 2 else { return fail("usage: :scale NAME N (N = 1…100000, or 'unlimited')") }
        guard let queue = knownQueue(args[0]) else { return fail("unknown queue '\(args[0])'") }
        if args[1] == "unlimited" { return request(&state, .setConcurrency(queue: queue, limit: nil)) }
        guard let n = Int(args[1]), (1...100_000).contains(n) else {
            return fail("concurrency must be a whole number from 1 to 100000, or 'unlimited'; got '\(args[1])'")
        }
        return request(&state, .setConcurrency(queue: queue, limit: n))
    case "refresh":
        guard let s = args.first.flatMap(Double.init),
              (DashboardState.minimumInterval...DashboardState.maximumInterval).contains(s) else {
            return fail("usage: :refresh SECONDS (\(formatInterval(DashboardState.minimumInterval))–\(formatInterval(DashboardState.maximumInterval)))")
        }
        state.refreshInterval = s
        state.flash = Flash("refresh every \(formatInterval(s))", kind: .info, at: state.now)
        return []
    default:
        return fail("unknown command ':\(verb)'; try :\(dashboardCommands.prefix(6).joined(separator: ", :")) (? for help)")
    }
}

import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop alerts hooks list|add|remove` and `queuetop alerts deliveries`: webhooks that the
/// health alerts (see `queuetop status`) are POSTed to when they fire and when they clear.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Webhooks for health alerts, and their delivery history.",
        discussion: HelpText.reflow("""
            Running `queuetop worker` processes deliver: one JSON POST per hook when an alert starts
            firing and one when it clears, retried with backoff when the receiver fails.
            """),
        subcommands: [Hooks.self, Deliveries.self])

    struct Hooks: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, add and remove alert webhooks.", subcommands: [List.self, Add.self, Remove.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every hook (URLs with credentials are shown redacted).")
            @OptionGroup var connection: ConnectionOptions
            @Flag(name: .long, help: "Print JSON.") var json = false
            func run() throws {
                let conn = try connection.connect()
                defer { conn.close() }
                let hooks = try cliErrors { try AlertHookStore(connection: conn).list() }
                if json { printJSON(hooks.map(HookJSON.init)); return }
                if hooks.isEmpty { print("no alert hooks (add one with `queuetop alerts hooks add NAME URL`)"); return }
                for h in hooks { print(hookLine(h)) }
            }
        }

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a webhook.",
                discussion: HelpText.reflow("""
                    The secret header's value is never stored: name the environment variable that holds
                    it, and set that variable for every `queuetop worker`. Example:
                      queuetop alerts hooks add slack https://hooks.example.com/T0/B0 \\
                        --secret-header Authorization --secret-env SLACK_TOKEN \\
                        --secret-prefix 'Bearer '
                    """))
            @OptionGroup var connection: ConnectionOptions
            @Argument(help: "Unique name (letters, digits, . _ : -).") var name: String
            @Argument(help: "http:// or https:// URL to POST to.") var url: String
            @Option(name: .long, help: "Header carrying the secret, e.g. Authorization.") var secretHeader: String?
            @Option(name: .long, help: "Environment variable holding the header's value.") var secretEnv: String?
            @Option(name: .long, help: "Text before the value, e.g. 'Bearer '.") var secretPrefix = ""
            @Flag(name: .long, help: "Print JSON.") var json = false
            func run() throws {
                // A CR or LF in a header would let the value start a header (or a body) of its own.
                for (option, value) in [("--secret-header", secretHeader ?? ""), ("--secret-prefix", secretPrefix)]
                where value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
                    throw CLIError("\(option) must not contain a carriage return, line feed or NUL: it is sent as an HTTP header")
                }
                let conn = try connection.connectToWrite()
                defer { conn.close() }
                let hook = try cliErrors {
                    try AlertHookStore(connection: conn).add(name: name, url: url, secretHeader: secretHeader,
                                                             secretEnv: secretEnv, secretPrefix: secretPrefix)
                }
                if json { printJSON(HookJSON(hook)) } else { print(hookLine(hook)) }
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a webhook and its undelivered notifications.")
            @OptionGroup var connection: ConnectionOptions
            @Argument var name: String
            func run() throws {
                let conn = try connection.connectToWrite()
                defer { conn.close() }
                try cliErrors { try AlertHookStore(connection: conn).remove(name) }
                print("removed alert hook \(safe: name)")
            }
        }
    }

    struct Deliveries: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delivery attempts, newest first, failures included.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Only this hook.") var hook: String?
        @Option(name: .long, help: "How many (1…10000).") var limit = 50
        @Flag(name: .long, help: "Print JSON.") var json = false
        func run() throws {
            guard (1...10_000).contains(limit) else { throw CLIError("--limit \(limit): expected 1…10000") }
            let conn = try connection.connect()
            defer { conn.close() }
            let rows = try cliErrors { try AlertHookStore(connection: conn).deliveries(limit: limit, hook: hook) }
            if json { printJSON(rows.map(DeliveryJSON.init)); return }
            if rows.isEmpty { print("no deliveries yet"); return }
            for d in rows {
                print("\(isoTime(d.at))\t\(safe: d.hook)\t\(safe: d.event)\t\(safe: d.alertKey)\tattempt \(d.attempt)\t"
                      + (d.ok ? "ok \(d.httpStatus.map(String.init) ?? "")" : "FAILED: \(safe: d.error ?? "?")")
                      + "\t\(safe: d.notificationStatus == "pending" ? "will retry" : d.notificationStatus)")
            }
        }
    }
}

private func hookLine(_ h: AlertHook) -> String {
    "\(safe: h.name)\t\(h.enabled ? "enabled" : "disabled")\t\(safe: redactingURLCredentials(h.url))"
        + (h.secretHeader.map { "\theader \(safe: $0) from $\(safe: h.secretEnv ?? "?")" } ?? "")
}

/// One hook of `alerts hooks list --json` (and `hooks add --json`); the URL without credentials.
/// The property names are the JSON keys (JSONOutput.swift).
private struct HookJSON: Encodable {
    let name: String
    let url: String
    let enabled: Bool
    @OrNull var secret_header: String?
    @OrNull var secret_env: String?

    init(_ h: AlertHook) {
        name = h.name; url = redactingURLCredentials(h.url); enabled = h.enabled
        secret_header = h.secretHeader; secret_env = h.secretEnv
    }
}

/// One attempt of `alerts deliveries --json`.
private struct DeliveryJSON: Encodable {
    let id: Int64
    let at: String
    let hook: String
    let alert_key: String
    let event: String
    let attempt: Int
    let ok: Bool
    @OrNull var http_status: Int?
    @OrNull var error: String?
    @OrNull var duration_ms: Int?
    let notification_status: String

    init(_ d: AlertDelivery) {
        id = d.id; at = isoTime(d.at); hook = d.hook; alert_key = d.alertKey; event = d.event; attempt = d.attempt
        ok = d.ok; http_status = d.httpStatus; error = d.error; duration_ms = d.durationMs
        notification_status = d.notificationStatus
    }
}

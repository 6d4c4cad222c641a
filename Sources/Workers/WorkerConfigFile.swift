import Foundation
import Postgres

/// A config-file problem, reported at startup before anything is claimed. Messages name the
/// handler and field and say what to do; they never contain a secret's value.
public struct WorkerConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Loads the handler config (JSON; format in docs/WORKERS.md):
///
///     {
///       "circuit_breaker": {"failure_threshold": 5, "cool_down_s": 30},
///       "handlers": {
///         "send_email": {"kind": "http", "url": "https://…/functions/v1/process-queue", "timeout_s": 30,
///                        "headers": {"X-Source": "queuetop"},
///                        "secret_headers": {"Authorization": {"env": "SERVICE_ROLE_KEY", "prefix": "Bearer "}}},
///         "sync_store": {"kind": "command", "argv": ["/usr/local/bin/sync-store"], "timeout_s": 20,
///                        "secret_env": {"STORE_TOKEN": "STORE_API_TOKEN"}},
///         "rollup":     {"kind": "sql", "function": "app.rollup_day", "timeout_s": 60},
///         "demo":       {"kind": "simulate"}, "bench": {"kind": "noop"}
///       },
///       "alert_hook_secrets": ["SLACK_WEBHOOK_TOKEN"]
///     }
///
/// Secrets are environment-variable *names*; values are read here, once, and live only in the
/// handlers' memory. `alert_hook_secrets` lists the variables an alert hook may name as its
/// secret: a hook is data an operator writes into the database, so without this allowlist an
/// operator could make the worker POST any variable (PGPASSWORD, a handler's API key) to a URL
/// of their choosing. Only the host's own config decides what leaves it.
public struct WorkerConfigFile: Sendable {
    public var handlers: HandlerTable
    public var breaker: CircuitBreakerPolicy
    /// Environment variables an alert hook may send as its secret header (`alert_hook_secrets`);
    /// empty: hooks with a secret are never resolved.
    public var alertHookSecrets: Set<String> = []
    /// Non-fatal findings (e.g. an HTTP endpoint refusing connections right now).
    public var warnings: [String]

    /// The table with no file: noop, simulate, and the bulk-operation jobs (lead_migration).
    public static func defaults(database: ConnectionConfig) -> WorkerConfigFile {
        WorkerConfigFile(handlers: HandlerTable(bindings: bulkBindings(database)), breaker: CircuitBreakerPolicy(), warnings: [])
    }

    static func bulkBindings(_ database: ConnectionConfig) -> [String: any JobHandler] {
        let bulk = SQLHandler(mode: .bulkOperation, timeout: 60, database: database)
        return ["lead_migration": bulk, "bulk_operation": bulk]
    }

    public static func load(path: String, database: ConnectionConfig,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            checkEndpoints: Bool = true) throws -> WorkerConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WorkerConfigError("cannot read the worker config file \(path): no such file or not readable")
        }
        return try parse(data, source: path, database: database, environment: environment, checkEndpoints: checkEndpoints)
    }

    public static func parse(_ data: Data, source: String, database: ConnectionConfig,
                             environment: [String: String], checkEndpoints: Bool = true) throws -> WorkerConfigFile {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw WorkerConfigError("\(source): the top level must be a JSON object with a \"handlers\" object")
            }
            root = object
        } catch let error as WorkerConfigError {
            throw error
        } catch {
            let reason = (error as NSError).userInfo["NSDebugDescription"] as? String ?? "\(error)"
            throw WorkerConfigError("\(source) is not valid JSON: \(reason)")
        }
        let known: Set = ["handlers", "circuit_breaker", "alert_hook_secrets"]
        if let unknown = root.keys.sorted().first(where: { !known.contains($0) }) {
            throw WorkerConfigError("\(source): unknown top-level key \"\(unknown)\" (expected: handlers, circuit_breaker, alert_hook_secrets)")
        }
        let alertHookSecrets = try parseAlertHookSecrets(root["alert_hook_secrets"], source: source)
        var breaker = CircuitBreakerPolicy()
        if let raw = root["circuit_breaker"] {
            breaker = try parseBreaker(raw, source: source)
        }
        guard let handlers = (root["handlers"] ?? [String: Any]()) as? [String: Any] else {
            throw WorkerConfigError("\(source): \"handlers\" must be an object mapping job types to handlers")
        }
        var bindings = bulkBindings(database)
        var warnings: [String] = []
        for (type, value) in handlers.sorted(by: { $0.key < $1.key }) {
            guard let spec = value as? [String: Any] else {
                throw WorkerConfigError("\(source): handler for job type \"\(type)\" must be an object with a \"kind\"")
            }
            let parser = HandlerSpec(type: type, spec: spec, source: source, environment: environment)
            let (handler, warning) = try parser.build(database: database, checkEndpoints: checkEndpoints)
            bindings[type] = handler
            if let warning { warnings.append(warning) }
        }
        return WorkerConfigFile(handlers: HandlerTable(bindings: bindings), breaker: breaker,
                                alertHookSecrets: alertHookSecrets, warnings: warnings)
    }

    /// `"circuit_breaker": {"failure_threshold": 5, "cool_down_s": 30}`: each key checked, an
    /// unknown one refused (a misspelt key would silently leave the default in force).
    static func parseBreaker(_ raw: Any, source: String) throws -> CircuitBreakerPolicy {
        guard let cb = raw as? [String: Any] else {
            throw WorkerConfigError("\(source): \"circuit_breaker\" must be an object: {\"failure_threshold\": 5, \"cool_down_s\": 30}")
        }
        if let unknown = cb.keys.sorted().first(where: { !["failure_threshold", "cool_down_s"].contains($0) }) {
            throw WorkerConfigError("\(source): \"circuit_breaker\": unknown key \"\(unknown)\" (expected: failure_threshold, cool_down_s)")
        }
        var threshold = 5
        if let v = cb["failure_threshold"] {
            guard let n = strictNumber(v), n.rounded() == n, (1...1_000_000).contains(n) else {
                throw WorkerConfigError("\(source): \"circuit_breaker\": \"failure_threshold\" must be a whole number between 1 and 1000000")
            }
            threshold = Int(n)
        }
        var coolDown = 30.0
        if let v = cb["cool_down_s"] {
            guard let n = strictNumber(v), n > 0, n <= 86_400 else {
                throw WorkerConfigError("\(source): \"circuit_breaker\": \"cool_down_s\" must be a number of seconds between 0 and 86400")
            }
            coolDown = n
        }
        return CircuitBreakerPolicy(failureThreshold: threshold, coolDown: coolDown)
    }

    /// `"alert_hook_secrets": ["NAME", …]`: environment-variable names only. They are not read
    /// here: a hook's secret is read per delivery, and an unset one is a failed delivery.
    static func parseAlertHookSecrets(_ raw: Any?, source: String) throws -> Set<String> {
        guard let raw else { return [] }
        guard let names = raw as? [String] else {
            throw WorkerConfigError("\(source): \"alert_hook_secrets\" must be an array of environment-variable names, "
                                    + "e.g. [\"SLACK_WEBHOOK_TOKEN\"]")
        }
        for name in names where name.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) == nil {
            throw WorkerConfigError("\(source): \"alert_hook_secrets\": \"\(name)\" is not an environment-variable name "
                                    + "(letters, digits and _, not starting with a digit)")
        }
        return Set(names)
    }
}

/// One entry of "handlers", validated field by field.
struct HandlerSpec {
    let type: String
    let spec: [String: Any]
    let source: String
    let environment: [String: String]

    static let kinds = ["http", "command", "sql", "simulate", "noop"]

    func fail(_ message: String) -> WorkerConfigError {
        WorkerConfigError("\(source): handler \"\(type)\": \(message)")
    }

    /// The keys each kind reads, besides "kind" and "timeout_s". Any other key is refused at
    /// startup: a misspelt one ("timeout": 2) would otherwise leave the default in force silently.
    static let keys: [String: [String]] = [
        "http": ["url", "headers", "secret_headers"], "command": ["argv", "env", "secret_env"],
        "sql": ["function", "bulk_operation"], "simulate": SimulateHandler.settingKeys, "noop": [],
    ]

    func build(database: ConnectionConfig, checkEndpoints: Bool) throws -> (any JobHandler, String?) {
        guard let kind = spec["kind"] as? String else { throw fail("missing \"kind\" (one of \(Self.kinds.joined(separator: ", ")))") }
        if let own = Self.keys[kind] {
            let allowed = ["kind", "timeout_s"] + own
            if let unknown = spec.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw fail("unknown key \"\(unknown)\" for a \(kind) handler (expected: \(allowed.joined(separator: ", ")))")
            }
        }
        var timeout = 30.0
        if let raw = spec["timeout_s"] {
            guard let n = strictNumber(raw) else { throw fail("\"timeout_s\" must be a number of seconds, not \(jsonKind(raw))") }
            timeout = n
        }
        guard timeout > 0 && timeout <= 86_400 else { throw fail("\"timeout_s\" must be between 0 and 86400 seconds") }
        switch kind {
        case "noop": return (NoopHandler(), nil)
        case "simulate":
            // Checked here, so a typo is an error at start-up rather than a silent default per job.
            if let latency = spec["latency_ms"], !(latency is [String: Any]) { throw fail("\"latency_ms\" must be an object like {\"p50\": 40, \"p99\": 400}") }
            if let errors = spec["errors"], !(errors is [String: Any]) { throw fail("\"errors\" must be an object of error type -> probability") }
            for key in ["retry_after_s", "max_ms"] where spec[key] != nil && strictNumber(spec[key]!) == nil {
                throw fail("\"\(key)\" must be a number")
            }
            let settings = spec.filter { SimulateHandler.settingKeys.contains($0.key) }
            guard !settings.isEmpty else { return (SimulateHandler(), nil) }
            let data = try JSONSerialization.data(withJSONObject: settings, options: [.sortedKeys])
            return (SimulateHandler(defaults: String(decoding: data, as: UTF8.self)), nil)
        case "http":
            guard let text = spec["url"] as? String else { throw fail("missing \"url\"") }
            let url = try HTTPEndpointCheck.parse(text, handler: type, source: source)
            var headers = try stringMap("headers")
            for (name, secret) in try secretMap("secret_headers") { headers[name] = secret }
            let warning = checkEndpoints ? try HTTPEndpointCheck.reachability(url, handler: type, source: source) : nil
            return (HTTPHandler(url: url, timeout: timeout, headers: headers), warning)
        case "command":
            guard let argv = spec["argv"] as? [String], let program = argv.first, !program.isEmpty else {
                throw fail("\"argv\" must be a non-empty array of strings, program first")
            }
            if program.contains("/") {
                guard FileManager.default.isExecutableFile(atPath: program) else { throw fail("\(program) is not an executable file") }
            }
            var env = try stringMap("env")
            for (name, secret) in try secretMap("secret_env") { env[name] = secret }
            return (CommandHandler(argv: argv, timeout: timeout, environment: env), nil)
        case "sql":
            if let raw = spec["bulk_operation"], !isBool(raw) {
                throw fail("\"bulk_operation\" must be true or false, not \(jsonKind(raw))")
            }
            if spec["bulk_operation"] as? Bool == true {
                return (SQLHandler(mode: .bulkOperation, timeout: timeout, database: database), nil)
            }
            guard let function = spec["function"] as? String, SQLHandler.isValidFunctionName(function) else {
                throw fail("\"function\" must name a SQL function as name or schema.name (lower case, digits, _), "
                           + "or set \"bulk_operation\": true")
            }
            return (SQLHandler(mode: .function(function), timeout: timeout, database: database), nil)
        default:
            throw fail("unknown handler kind \"\(kind)\" (expected one of \(Self.kinds.joined(separator: ", ")))")
        }
    }

    private func stringMap(_ key: String) throws -> [String: String] {
        guard let raw = spec[key] else { return [:] }
        guard let map = raw as? [String: String] else { throw fail("\"\(key)\" must map names to strings") }
        return map
    }

    /// `{"NAME": "ENV_VAR"}` or `{"NAME": {"env": "ENV_VAR", "prefix": "Bearer "}}` -> resolved values.
    private func secretMap(_ key: String) throws -> [String: String] {
        guard let raw = spec[key] else { return [:] }
        guard let map = raw as? [String: Any] else { throw fail("\"\(key)\" must be an object") }
        var out: [String: String] = [:]
        for (name, value) in map {
            let variable: String?, prefix: String
            if let plain = value as? String {
                variable = plain; prefix = ""
            } else if let object = value as? [String: Any] {
                if let unknown = object.keys.sorted().first(where: { !["env", "prefix"].contains($0) }) {
                    throw fail("\"\(key)\".\"\(name)\": unknown key \"\(unknown)\" (expected: env, prefix)")
                }
                if let raw = object["prefix"], !(raw is String) {
                    throw fail("\"\(key)\".\"\(name)\": \"prefix\" must be a string")
                }
                variable = object["env"] as? String; prefix = object["prefix"] as? String ?? ""
            } else {
                variable = nil; prefix = ""
            }
            guard let variable, !variable.isEmpty else {
                throw fail("\"\(key)\".\"\(name)\" must name an environment variable: \"VAR\" or {\"env\": \"VAR\", \"prefix\": \"…\"}")
            }
            guard let secret = environment[variable], !secret.isEmpty else {
                throw fail("environment variable \(variable) (for \(key) \"\(name)\") is not set; export it before starting the worker")
            }
            out[name] = prefix + secret
        }
        return out
    }
}

/// A JSON number, exactly: not a string holding one, not true/false (which JSONSerialization
/// also hands over as NSNumber).
fileprivate func strictNumber(_ value: Any) -> Double? {
    guard let n = value as? NSNumber, !isBool(n) else { return nil }
    return n.doubleValue
}

fileprivate func isBool(_ value: Any) -> Bool {
    guard let n = value as? NSNumber else { return value is Bool }
    return String(cString: n.objCType) == "c"
}

/// What a JSON value is, for messages ("a string", "true").
fileprivate func jsonKind(_ value: Any) -> String {
    switch value {
    case is String: return "a string"
    case let n as NSNumber where isBool(n): return n.boolValue ? "true" : "false"
    case is NSNumber: return "a number"
    case is [Any]: return "an array"
    case is [String: Any]: return "an object"
    case is NSNull: return "null"
    default: return "\(type(of: value))"
    }
}

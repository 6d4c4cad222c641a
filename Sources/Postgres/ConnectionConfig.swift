import CLibPQ

/// Where to connect: a libpq conninfo string (`host=… dbname=…`) or a `postgres://` URI, or
/// nothing at all, in which case libpq's own defaults apply (the PG* environment variables,
/// ~/.pgpass, `sslmode`, the default socket).
///
/// The raw string is kept private: everything shown to a person goes through `redacted`.
public struct ConnectionConfig: Sendable, CustomStringConvertible {
    let conninfo: String
    /// Parameters that win over the string's own (e.g. another database on the same server).
    var overrides: [(String, String)] = []
    /// Seconds libpq may spend on each connection attempt, unless the string or PGCONNECT_TIMEOUT sets one.
    public var connectTimeoutSeconds: Int = 10
    public var applicationName: String = "queuetop"
    /// Where queuetop's objects live; every connection resolves it when it opens
    /// (`Connection.schema`). Not a libpq parameter and never a session `search_path`.
    public var schema: SchemaChoice = .standard

    /// Validates the string with libpq's own parser, so a malformed URI fails here with a clear
    /// message and before any network traffic.
    public init(_ conninfo: String) throws {
        self.conninfo = conninfo
        if !conninfo.isEmpty {
            try Self.refuseAmbiguousURI(conninfo)
            _ = try Self.parse(conninfo)
        }
    }

    /// libpq splits a URI's credentials at the first `@` and its authority at the first `/`, so
    /// a password with an unencoded `@` or `/` leaves a piece of it in the host, the port or
    /// the database name, which every later message would print ("cannot connect to
    /// ss@127.0.0.1:1"). Such a URI is refused before it is parsed, quoting none of it.
    static func refuseAmbiguousURI(_ conninfo: String) throws {
        let lower = conninfo.lowercased()
        guard let scheme = ["postgresql://", "postgres://"].first(where: { lower.hasPrefix($0) }) else { return }
        let beforeQuery = conninfo.dropFirst(scheme.count).prefix { $0 != "?" }
        let ats = beforeQuery.indices.filter { beforeQuery[$0] == "@" }
        let slash = beforeQuery.firstIndex(of: "/")
        guard ats.count > 1 || (ats.count == 1 && slash.map { $0 < ats[0] } ?? false) else { return }
        throw PostgresError(kind: .connection,
                            message: "cannot parse the connection string (check that special characters in the password are percent-encoded)",
                            hint: "write @ as %40, / as %2F, : as %3A in the user name and password")
    }

    /// `--db` if given, else `DATABASE_URL`, else libpq's defaults; the schema from `--schema`
    /// (`schema`) if given, else `QUEUETOP_SCHEMA`, else found when connecting.
    public static func resolve(explicit: String?, schema: String? = nil,
                               environment: [String: String]) throws -> ConnectionConfig {
        var config: ConnectionConfig
        if let explicit, !explicit.isEmpty {
            config = try ConnectionConfig(explicit)
        } else if let url = environment["DATABASE_URL"], !url.isEmpty {
            config = try ConnectionConfig(url)
        } else {
            config = try ConnectionConfig("")
        }
        config.schema = try SchemaChoice.resolve(explicit: schema, environment: environment)
        return config
    }

    /// The connection parameters that hold a secret: the password, and `sslpassword`, which
    /// unlocks the client certificate's private key (`sslkey`).
    static let secretKeys: Set<String> = ["password", "sslpassword"]

    /// The parameters libpq will use, with the password (and sslpassword) masked: safe to print.
    public var redacted: String {
        guard !conninfo.isEmpty, let options = try? Self.parse(conninfo) else {
            return conninfo.isEmpty ? "(libpq defaults: PG* environment, ~/.pgpass)" : "(unparseable connection string)"
        }
        return options
            .filter { $0.value != nil && !$0.value!.isEmpty }
            .map { key, value in "\(key)=\(Self.secretKeys.contains(key) ? "********" : value!)" }
            .joined(separator: " ")
    }

    /// "host:port" as far as the string says (for error messages); libpq fills in the rest.
    public var endpoint: String {
        let options = (try? Self.parse(conninfo)) ?? []
        let dict = Dictionary(options.map { ($0.key, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
        let host = dict["host"].flatMap { $0.isEmpty ? nil : $0 } ?? dict["hostaddr"].flatMap { $0.isEmpty ? nil : $0 } ?? "default host"
        let port = dict["port"].flatMap { $0.isEmpty ? nil : $0 } ?? "5432"
        return "\(host):\(port)"
    }

    public var description: String { redacted }

    /// Whether the string itself carries a password (`user:secret@`, `password=` or the client
    /// key's `sslpassword=`); a password from ~/.pgpass, PGPASSWORD or a service file is not in
    /// it. The contexts file refuses one.
    public var containsPassword: Bool {
        ((try? Self.parse(conninfo)) ?? []).contains { Self.secretKeys.contains($0.key) && !($0.value ?? "").isEmpty }
    }

    /// Keyword/value pairs for PQconnectdbParams. The user's string comes last, expanded as
    /// `dbname`, so anything it sets wins over our defaults — the TCP keepalive and
    /// `tcp_user_timeout` defaults derived from the liveness bound too (`Liveness`).
    func connectParameters(environment: [String: String], livenessTimeout: Double = Liveness.defaultTimeout) -> [(String, String)] {
        var params: [(String, String)] = [("application_name", applicationName)]
        if environment["PGCONNECT_TIMEOUT"] == nil {
            params.append(("connect_timeout", String(connectTimeoutSeconds)))
        }
        params += Liveness.tcpParameters(timeout: livenessTimeout)
        if !conninfo.isEmpty { params.append(("dbname", conninfo)) }
        return params + overrides
    }

    /// The same server and credentials with one parameter replaced, e.g. `("dbname", "other")`.
    public func overriding(_ keyword: String, _ value: String) -> ConnectionConfig {
        var copy = self
        copy.overrides.removeAll { $0.0 == keyword }
        copy.overrides.append((keyword, value))
        return copy
    }

    /// A conninfo string with every parameter, password included, for handing to a child
    /// process through its environment. Never print it; print `redacted`.
    public func unredactedConninfo() throws -> String {
        var pairs: [(String, String)] = []
        for option in try Self.parse(conninfo) where !(option.value ?? "").isEmpty {
            pairs.append((option.key, option.value!))
        }
        for (k, v) in overrides {
            pairs.removeAll { $0.0 == k }
            pairs.append((k, v))
        }
        return pairs.map { "\($0.0)='\($0.1.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))'" }
            .joined(separator: " ")
    }

    static func parse(_ conninfo: String) throws -> [(key: String, value: String?)] {
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            var reason = "it could not be parsed"
            if let errmsg {
                reason = String(cString: errmsg).trimmingWhitespace()
                PQfreemem(errmsg)
            }
            // libpq's parse errors quote the offending fragment, which may hold a password;
            // report only which part of the syntax is wrong.
            throw PostgresError(kind: .connection, message: "invalid connection string: \(Self.redactQuotes(reason))",
                                hint: "use postgresql://user@host:port/dbname or 'host=… port=… dbname=…'")
        }
        defer { PQconninfoFree(options) }
        var result: [(String, String?)] = []
        var p = options
        while let keyword = p.pointee.keyword {
            result.append((String(cString: keyword), p.pointee.val.map { String(cString: $0) }))
            p = p.advanced(by: 1)
        }
        return result
    }

    /// Replaces anything between quotes in a libpq message, where it echoes user input.
    static func redactQuotes(_ text: String) -> String {
        var out = ""
        var inQuote = false
        for ch in text {
            if ch == "\"" {
                out.append(ch)
                if inQuote { inQuote = false } else { inQuote = true; out += "…" }
            } else if !inQuote {
                out.append(ch)
            }
        }
        return out
    }
}

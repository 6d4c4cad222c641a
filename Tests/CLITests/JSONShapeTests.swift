import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The shape of every command's `--json` output: each key, and the JSON type of each value
/// (string, number, bool, null, object, array), recorded in Snapshots/json-shapes.txt. Scripts
/// and users read these keys, so a change of the printing code (the `[String: Any]`
/// dictionaries became Encodable structs) must not add, drop or retype one: a key whose value
/// is null stays present as null, a key that was left out stays left out. Values themselves
/// (ids, times) differ run to run and are not compared.
@Suite struct JSONShapeTests {
    /// The JSON type of each value, recursively. Objects list their keys sorted; an array shows
    /// each distinct element shape once.
    indirect enum Shape: Decodable, Hashable {
        case null, bool, number, string
        case array([Shape])
        case object([String: Shape])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if (try? c.decode(Bool.self)) != nil { self = .bool }
            else if (try? c.decode(Double.self)) != nil { self = .number }
            else if (try? c.decode(String.self)) != nil { self = .string }
            else if let items = try? c.decode([Shape].self) {
                var seen: [Shape] = []
                for item in items where !seen.contains(item) { seen.append(item) }
                self = .array(seen)
            } else { self = .object(try c.decode([String: Shape].self)) }
        }

        func render(indent: String = "") -> String {
            switch self {
            case .null: return "null"
            case .bool: return "bool"
            case .number: return "number"
            case .string: return "string"
            case let .array(items):
                return items.isEmpty ? "[]" : "[" + items.map { $0.render(indent: indent) }.joined(separator: " | ") + "]"
            case let .object(fields) where fields.isEmpty:
                return "{}"
            case let .object(fields):
                let inner = indent + "  "
                return "{\n" + fields.keys.sorted().map { "\(inner)\($0): \(fields[$0]!.render(indent: inner))" }
                    .joined(separator: "\n") + "\n\(indent)}"
            }
        }
    }

    static func shape(_ text: String) throws -> String {
        try JSONDecoder().decode(Shape.self, from: Data(text.utf8)).render()
    }

    @Test func everyCommandKeepsItsJSONKeysAndValueTypes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            var report: [String] = []
            func run(_ name: String, _ args: [String], lines: Bool = false, stdin: String? = nil) throws -> String {
                let out = try QueuetopBinary.run(args + ["--db", db.conninfo], stdin: stdin)
                #expect(out.status == 0, "\(name): \(out.stderr)")
                // One JSON object per line (`leads move --wait`): each distinct line shape once,
                // as the number of progress lines depends on timing.
                var shapes: [String] = []
                for text in lines ? out.stdout.split(separator: "\n").map(String.init) : [out.stdout] {
                    let shape = try Self.shape(text)
                    if !shapes.contains(shape) { shapes.append(shape) }
                }
                report.append("## \(name)\n" + shapes.joined(separator: "\n"))
                return out.stdout
            }
            func object(_ text: String) throws -> [String: Any] {
                try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            }

            // Jobs: completed ones (per-type figures, a forecast), dead-lettered ones, a cached result.
            let jobs = JobStore(connection: conn)
            _ = try run("enqueue", ["enqueue", "mail", "--type", "send", "--tenant", "shop-9", "--payload", #"{"to":"a@b.c"}"#, "--json"])
            let claimed = try jobs.claim(worker: "w", queues: ["mail"], max: 10)
            try jobs.complete(worker: "w", ids: claimed.map(\.id), processingMs: claimed.map { _ in 12 })
            let unique = ["enqueue", "mail", "--type", "sync", "--dedup-key", "k", "--unique-for", "10m", "--json"]
            _ = try run("enqueue (queued)", unique)
            let syncJob = try jobs.claim(worker: "w", queues: ["mail"], max: 1)
            try jobs.complete(worker: "w", ids: syncJob.map(\.id), results: [JSONText(#"{"orders": 42, "deep": [[1]]}"#)])
            _ = try run("enqueue (completed within --unique-for)", unique)
            _ = try run("enqueue --from", ["enqueue", "mail", "--from", "-", "--json"],
                        stdin: #"{"type": "send", "payload": {}, "tenant": "shop-9"}"# + "\n")
            let dead = try seedDeadLetters(conn, 3, queue: "emails", type: "send")

            _ = try run("queue list", ["queue", "list", "--json"])
            _ = try run("queue show", ["queue", "show", "mail", "--json"])
            _ = try run("queue pause", ["queue", "pause", "mail", "--json"])
            _ = try run("queue resume", ["queue", "resume", "mail", "--json"])
            _ = try run("queue scale", ["queue", "scale", "mail", "5", "--json"])
            _ = try run("queue set", ["queue", "set", "mail", #"{"backoff_schedule_s": [5, 10], "rate_limit_per_s": 2.5}"#, "--json"])

            _ = try run("dlq list", ["dlq", "list", "--json"])
            _ = try run("dlq groups", ["dlq", "groups", "--json"])
            _ = try run("job show (dead letter)", ["job", "show", dead[0].uuidString.lowercased(), "--json"])
            _ = try run("job show (completed)", ["job", "show", syncJob[0].id.text, "--json"])
            _ = try run("dlq requeue", ["dlq", "requeue", dead[1].uuidString.lowercased(), "--yes", "--json"])
            _ = try run("dlq delete", ["dlq", "delete", dead[2].uuidString.lowercased(), "--yes", "--json"])

            _ = try run("schedule add", ["schedule", "add", "tick", "@hourly", "mail", "send", "--payload", #"{"n": 1}"#, "--json"])
            _ = try run("schedule run", ["schedule", "run", "tick", "--json"])
            _ = try run("schedule disable", ["schedule", "disable", "tick", "--json"])
            _ = try run("schedule list", ["schedule", "list", "--json"])

            _ = try run("alerts hooks add", ["alerts", "hooks", "add", "ops", "https://hooks.example.com/1",
                                             "--secret-header", "Authorization", "--secret-env", "OPS_TOKEN", "--json"])
            _ = try run("alerts hooks list", ["alerts", "hooks", "list", "--json"])
            try conn.execute("""
                WITH n AS (INSERT INTO alert_notifications (hook, alert_key, event, payload)
                           VALUES ('ops', 'dlq:emails', 'firing', '{}') RETURNING id)
                INSERT INTO alert_deliveries (notification_id, hook, alert_key, event, attempt, ok, http_status, error, duration_ms)
                SELECT id, 'ops', 'dlq:emails', 'firing', 1, false, 503, 'upstream down', 40 FROM n
                UNION ALL SELECT id, 'ops', 'dlq:emails', 'firing', 2, false, NULL, NULL, NULL FROM n
                """)
            _ = try run("alerts deliveries", ["alerts", "deliveries", "--json"])

            _ = try run("migrate", ["migrate", "--json"])
            _ = try run("migrate --status", ["migrate", "--status", "--json"])

            let t = try EngineCommandTests.leadsRun(conn, leads: 150, name: "Restaurantes")
            _ = try run("leads move --wait", ["leads", "move", "--run", t.run, "--funnel", t.funnel, "--column", t.column,
                                              "--batch-size", "100", "--yes", "--wait", "--json"], lines: true)

            // status --json is the database's snapshot text plus three keys the binary appends;
            // only those (and that the rest is one object) are this test's business.
            let status = try object(try QueuetopBinary.run(["status", "--json", "--db", db.conninfo]).stdout)
            report.append("## status (appended keys)\n" + (try Self.shape(String(decoding: try JSONSerialization.data(
                withJSONObject: status.filter { ["standby", "replay", "notifications_delivered"].contains($0.key) }), as: UTF8.self))))

            try Snapshot.verify(report.joined(separator: "\n\n"), named: "json-shapes")
        }
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// `queuetop queue show` and `queue list` with tenants (migration 0010), through the real binary.
@Suite struct QueueTenantsCLITests {
    typealias E = EngineCommandTests

    /// emails: shop-a 4 pending, shop-b 2, shop-c 1, three without a tenant.
    func seed(_ conn: Connection, also extra: [(String, Int)] = []) throws {
        let jobs = ([("shop-b", 2), ("shop-a", 4), ("shop-c", 1)] + extra).flatMap { tenant, n in
            (0..<n).map { _ in #"{"queue": "emails", "type": "send", "tenant": "\#(tenant)"}"# }
        } + (0..<3).map { _ in #"{"queue": "emails", "type": "send"}"# }
        _ = try conn.query("SELECT count(*) FROM enqueue_jobs(\(JSONText("[" + jobs.joined(separator: ",") + "]"))::jsonb)")
    }

    @Test func showPrintsTheCapsTheExpiredCountsAndTheTenantsRankedByBacklog() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try seed(conn)
            let plain = try E.queuetop(db, ["queue", "show", "emails"])
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(plain.stdout.contains("tenant caps: none"))
            #expect(plain.stdout.contains("expired: 0 in the last hour, 0 in the last 24 h"))
            let set = try E.queuetop(db, ["queue", "set", "emails", #"{"tenant_concurrency_limit": 2, "tenant_rate_limit_per_s": 5}"#])
            #expect(set.status == 0, "\(set.stderr)")

            let show = try E.queuetop(db, ["queue", "show", "emails"])
            #expect(show.status == 0, "\(show.stderr)")
            #expect(show.stdout.hasPrefix("emails\tactive\t"))
            #expect(show.stdout.contains("tenant caps: 2 in flight, 5/s per tenant"))
            let lines = show.stdout.split(separator: "\n").map(String.init)
            let header = try #require(lines.firstIndex { $0.contains("TENANT") && $0.contains("PENDING") })
            let rows = lines[(header + 1)...].map { $0.split(separator: " ").map(String.init) }
            #expect(rows.map { $0.first ?? "" } == ["shop-a", "shop-b", "shop-c"])
            #expect(rows.map { $0.count > 1 ? $0[1] : "" } == ["4", "2", "1"])

            let top2 = try E.queuetop(db, ["queue", "show", "emails", "--tenants", "2", "--json"])
            #expect(top2.status == 0, "\(top2.stderr)")
            let object = try #require(try E.json(top2.stdout) as? [String: Any])
            let tenants = try #require(object["tenants"] as? [[String: Any]])
            #expect(tenants.map { $0["tenant"] as? String } == ["shop-a", "shop-b"])
            #expect(tenants.map { $0["pending"] as? Int } == [4, 2])
            #expect(object["tenant_concurrency_limit"] as? Int == 2 && object["tenant_rate_limit_per_s"] as? Double == 5)
            #expect((object["expired"] as? [String: Any])?["last_24h"] as? Int == 0)

            let list = try E.queuetop(db, ["queue", "list"])
            #expect(list.status == 0 && list.stdout.contains("tenant cap 2 in flight, 5/s"), "\(list.stdout)")
            let listJSON = try #require(try E.json(try E.queuetop(db, ["queue", "list", "--json"]).stdout) as? [[String: Any]])
            #expect(listJSON.first?["tenant_concurrency_limit"] as? Int == 2)
        }
    }

    /// A wide (CJK) tenant name keeps the columns straight on a terminal: widths are counted in
    /// terminal columns, two for each such character.
    @Test func theTableStaysAlignedWithAWideTenantName() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try seed(conn, also: [("초롱-마켓", 3)])
            let show = try E.queuetop(db, ["queue", "show", "emails"])
            #expect(show.status == 0, "\(show.stderr)")
            func columns(_ s: Substring) -> Int { s.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x1100 ? 2 : 1) } }
            let lines = show.stdout.split(separator: "\n")
            let header = try #require(lines.first { $0.contains("TENANT") && $0.contains("PENDING") })
            let pendingEnd = columns(header[..<(try #require(header.range(of: "PENDING")).upperBound)])
            let rows = lines.drop { !($0.contains("TENANT") && $0.contains("PENDING")) }.dropFirst()
            #expect(rows.count == 4 && rows.contains { $0.contains("초롱-마켓") })
            for row in rows {
                let digits = try #require(row.range(of: #"\d+(?=\s{2,}\d+\s{2,})"#, options: .regularExpression))
                #expect(columns(row[..<digits.upperBound]) == pendingEnd, "\(row)")
            }
        }
    }

    @Test func aQueueWithoutTenantsSaysSo() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try conn.query("SELECT enqueue_job('plain', 'send')")
            let show = try E.queuetop(db, ["queue", "show", "plain"])
            #expect(show.status == 0 && show.stdout.contains("no tenant keys in this queue"), "\(show.stdout)\(show.stderr)")
            let json = try #require(try E.json(try E.queuetop(db, ["queue", "show", "plain", "--json"]).stdout) as? [String: Any])
            #expect((json["tenants"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func badInputIsOneClearErrorAndChangesNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try seed(conn)
            let hostile = HostileInputTests()
            for n in ["0", "-3", "1001", "many", "99999999999"] {
                try hostile.refuses(db, conn, ["queue", "show", "emails", "--tenants=\(n)"], saying: "--tenants")
            }
            try hostile.refuses(db, conn, ["queue", "show", "nosuch"], saying: "unknown queue \"nosuch\"")
            try hostile.refuses(db, conn, ["queue", "show", HostileInputTests.injection], saying: "unknown queue")
            for (settings, message) in [(#"{"tenant_concurrency_limit": "lots"}"#, "tenant_concurrency_limit: invalid input syntax"),
                                        (#"{"tenant_rate_limit_per_s": "fast"}"#, "tenant_rate_limit_per_s: invalid input syntax"),
                                        (#"{"tenant_concurrency_limit": 0}"#, "tenant_concurrency_limit"),
                                        (#"{"tenant_concurrency_limit": 99999999999}"#, "tenant_concurrency_limit: value \"99999999999\" is out of range"),
                                        (#"{"tenant_rate_limit_per_s": -5}"#, "tenant_rate_limit_per_s")] {
                try hostile.refuses(db, conn, ["queue", "set", "emails", settings], saying: message)
            }
            #expect(try E.queuetop(db, ["queue", "show", "emails"]).stdout.contains("tenant caps: none"))
        }
    }
}

import Foundation
import Postgres
import TestSupport
import Testing

/// `queuetop alerts …` end to end: a URL carrying credentials is refused (viewers can read hook
/// URLs; the secret goes in a header), bad input changes nothing, and deliveries print with their
/// outcome.
@Suite struct AlertsCLITests {
    @Test func hooksAddListRemoveAndBadInput() throws {
        try TestDatabase.with { db in
            let env = ["DATABASE_URL": db.conninfo]
            let credentialed = try QueuetopBinary.run(["alerts", "hooks", "add", "slack", "https://bot:pa55@hooks.example.com/T/1"],
                                                      environment: env)
            #expect(credentialed.status != 0 && credentialed.stderr.contains("secret header"), "\(credentialed.stderr)")
            #expect(!credentialed.stderr.contains("pa55") && !credentialed.stdout.contains("pa55"))
            let added = try QueuetopBinary.run(["alerts", "hooks", "add", "slack", "https://hooks.example.com/T/1",
                                                "--secret-header", "Authorization", "--secret-env", "SLACK_TOKEN",
                                                "--secret-prefix", "Bearer "], environment: env)
            #expect(added.status == 0, "\(added.stderr)")
            let list = try QueuetopBinary.run(["alerts", "hooks", "list"], environment: env)
            #expect(list.stdout.contains("slack\tenabled\thttps://hooks.example.com/T/1\theader Authorization from $SLACK_TOKEN"),
                    "\(list.stdout)")
            let conn = try db.connect()
            defer { conn.close() }
            func state() throws -> String {
                try conn.query("SELECT (SELECT string_agg(name || url, ',') FROM alert_hooks) || (SELECT count(*) FROM audit_log)::text").scalar()
            }
            let before = try state()
            let cases: [([String], String)] = [
                (["alerts", "hooks", "add", "x", "ftp://example.com"], "http:// or https://"),
                (["alerts", "hooks", "add", "x", "https://example.com", "--secret-header", "Authorization"], "needs both"),
                (["alerts", "hooks", "add", "slack", "https://example.com"], "already exists"),
                (["alerts", "hooks", "add", "bad name", "https://example.com"], "alert hook name \"bad name\" must be"),
                (["alerts", "hooks", "remove", "nope"], "unknown alert hook \"nope\""),
                (["alerts", "deliveries", "--limit", "0"], "--limit 0"),
            ]
            for (arguments, expected) in cases {
                let r = try QueuetopBinary.run(arguments, environment: env)
                #expect(r.status != 0, "\(arguments) succeeded")
                #expect(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
                #expect(try state() == before, "\(arguments) changed something")
            }
            let none = try QueuetopBinary.run(["alerts", "deliveries"], environment: env)
            #expect(none.status == 0 && none.stdout.contains("no deliveries yet"))
            let removed = try QueuetopBinary.run(["alerts", "hooks", "remove", "slack"], environment: env)
            #expect(removed.status == 0 && removed.stdout.contains("removed alert hook slack"))
        }
    }
}

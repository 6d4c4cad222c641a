import Foundation
import Postgres
import TestSupport
import Testing

/// `queue show` and `status` print the per-type table and the drain forecast; type names are
/// producers' free text, so an escape sequence in one reaches the terminal only as text.
@Suite struct PerTypeCLITests {
    @Test func queueShowAndStatusPrintTypesAndForecastWithHostileNamesMadeSafe() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                SELECT enqueue_job('mail', t) FROM generate_series(1, 30) i, unnest(ARRAY['send', E'evil\\x1b[2J\\x1b]0;pwn\\x07']) t;
                SELECT count(*) FROM claim_jobs('w', ARRAY['mail'], 40);
                SELECT complete_jobs('w', array_agg(id), array_agg(120)) FROM job_queue WHERE locked_by = 'w' AND job_type = 'send';
                SELECT fail_jobs('w', array_agg(id), array_agg('boom'::text), array_agg('x'::text))
                  FROM job_queue WHERE locked_by = 'w' AND status = 'processing';
                """)
            let show = try QueuetopBinary.run(["queue", "show", "mail", "--db", db.conninfo])
            #expect(show.status == 0, "\(show.stderr)")
            #expect(!show.stdout.contains("\u{1b}") && !show.stdout.contains("\u{7}"))
            #expect(show.stdout.contains("JOB TYPES"))
            let send = try #require(show.stdout.split(separator: "\n").first { $0.contains(" send ") })
            let cells = send.split(separator: " ").map(String.init)
            #expect(cells.prefix(4) == ["send", "30", "0", "0.0"])
            // Every job took 120 ms; the histogram's estimate is within its stated 4.881 %.
            for cell in cells.dropFirst(4) {
                let ms = try #require(Double(cell.replacingOccurrences(of: "ms", with: "")))
                #expect(abs(ms - 120) <= 120 * 0.04881 + 0.5, "\(send)")
            }
            let evil = try #require(show.stdout.split(separator: "\n").first { $0.contains("evil") })
            #expect(evil.contains("100.0"), "\(evil)")
            // 30 pending again (retryable failures); 60 arrived in the window, 30 done: growing.
            #expect(show.stdout.contains("drain: growing (backlog 30"), "\(show.stdout)")

            let json = try QueuetopBinary.run(["queue", "show", "mail", "--json", "--db", db.conninfo])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let types = try #require(object["types"] as? [[String: Any]])
            #expect(types.compactMap { $0["type"] as? String }.contains("evil\u{1b}[2J\u{1b}]0;pwn\u{7}"))
            #expect((object["forecast"] as? [String: Any])?["state"] as? String == "growing")

            let status = try QueuetopBinary.run(["status", "--db", db.conninfo])
            #expect(status.stdout.contains("DRAIN") && status.stdout.contains("growing"), "\(status.stdout)")
            let statusJSON = try QueuetopBinary.run(["status", "--json", "--db", db.conninfo])
            let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(statusJSON.stdout.utf8)) as? [String: Any])
            let queue = try #require((snapshot["queues"] as? [[String: Any]])?.first)
            #expect((queue["types"] as? [[String: Any]])?.count == 2)
            #expect((queue["forecast"] as? [String: Any])?["state"] as? String == "growing")
        }
    }
}

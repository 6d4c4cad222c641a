import Foundation
import Postgres
import TestSupport
import Testing

/// `queuetop mark` and `queuetop timeline` end to end: bad input is one clear line, a non-zero
/// exit and no row; what comes back from the database is printed safely, as text or JSON.
@Suite struct TimelineCLITests {
    @Test func badMarksAreRefusedAndStoreNothing() throws {
        try TestDatabase.with { db in
            let env = ["DATABASE_URL": db.conninfo]
            let conn = try db.connect()
            defer { conn.close() }
            let cases: [([String], String)] = [
                (["mark", ""], "a mark needs a label"),
                (["mark", "   "], "a mark needs a label"),
                (["mark", String(repeating: "v", count: 201)], "at most 200"),
                (["mark", "deploy\u{1B}[2Jv42"], "control character"),
                (["mark", "deploy v42", "--kind", "DEPLOY"], "not a short lower-case word"),
                (["timeline", "--since", "0"], "expected a positive duration"),
                (["timeline", "--since", "yesterday"], "expected a positive duration"),
                (["timeline", "--limit", "1001"], "--limit 1001: expected 1…1000"),
            ]
            for (arguments, expected) in cases {
                let r = try QueuetopBinary.run(arguments, environment: env)
                #expect(r.status != 0, "\(arguments) succeeded")
                #expect(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
                #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("\u{1B}"))
            }
            #expect(try conn.query("SELECT count(*)::int FROM timeline_marks").scalar(Int.self) == 0)
        }
    }

    /// The expirer's rows are worded as on the audit screen (queue, short ids, how many more),
    /// not its raw {"ids": [...]} filter; a lead migration's rows say the queue its jobs run in.
    @Test func expiryRowsAreWordedAndLeadMigrationsNameTheirQueue() throws {
        try TestDatabase.with { db in
            let env = ["DATABASE_URL": db.conninfo]
            let conn = try db.connect()
            defer { conn.close() }
            let ids = (0..<3).map { _ in UUID().uuidString.lowercased() }
            try conn.query("SELECT record_audit('job.expire', jsonb_build_object('queue', 'emails', 'ids', \(ids)::text[]), 5)")
            try conn.query("SELECT record_audit('lead_migration.cancel', jsonb_build_object('run_id', 'r-7'), 1)")
            let text = try QueuetopBinary.run(["timeline", "--since", "10m"], environment: env)
            #expect(text.status == 0, "\(text.stderr)")
            let lines = text.stdout.split(separator: "\n").map(String.init)
            let expiry = try #require(lines.first { $0.contains("job.expire") }, "\(text.stdout)")
            let short = ids.map { String($0.suffix(8)) }.joined(separator: " ")
            #expect(expiry.contains("job.expire\temails\t") && expiry.contains("emails: ids \(short) +2 more"), "\(expiry)")
            #expect(!expiry.contains("{") && !expiry.contains("\"ids\""), "\(expiry)")
            let lead = try #require(lines.first { $0.contains("lead_migration.cancel") }, "\(text.stdout)")
            #expect(lead.contains("lead_migration.cancel\tlead_migrations\t"), "\(lead)")
            // Other audit rows keep their filter as JSON.
            let rows = try conn.query("SELECT summary FROM timeline() WHERE event = 'lead_migration.cancel'")
            #expect(try rows.first?.decode(0, as: String.self) == #"{"run_id": "r-7"}"#)
        }
    }

    @Test func marksAndActionsPrintNewestFirstAndHostileTextEscaped() throws {
        try TestDatabase.with { db in
            let env = ["DATABASE_URL": db.conninfo]
            let conn = try db.connect()
            defer { conn.close() }
            // An operator's raw record_audit call may carry anything a jsonb string holds: a
            // right-to-left override and a C1 control are not escaped by jsonb's text form.
            try conn.query("SELECT record_audit('custom.action', jsonb_build_object('queue', 'emails', 'note', 'a\u{202E}b\u{9B}2J'), 1)")
            let mark = try QueuetopBinary.run(["mark", "déploiement v42 日本", "--json"], environment: env)
            #expect(mark.status == 0, "\(mark.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(mark.stdout.utf8)) as? [String: Any]
            #expect(json?["kind"] as? String == "deploy" && json?["label"] as? String == "déploiement v42 日本")

            let text = try QueuetopBinary.run(["timeline", "--since", "10m"], environment: env)
            #expect(text.status == 0, "\(text.stderr)")
            let lines = text.stdout.split(separator: "\n")
            #expect(lines.count == 2 && lines[0].contains("deploy\t-\tdéploiement v42 日本") && lines[1].contains("custom.action\temails"),
                    "\(text.stdout)")
            // Every line has the same six fields, "-" for what an entry lacks (the mark has no
            // queue), so scripts can cut by field: the demo's lead migrations shifted them.
            #expect(lines.allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 6 }, "\(text.stdout)")
            #expect(lines[1].contains("audit #"), "an audit entry names the row that opens it")
            #expect(!text.stdout.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x9B }, "hostile scalars printed raw")

            let asJSON = try QueuetopBinary.run(["timeline", "--json", "--limit", "1"], environment: env)
            let rows = try JSONSerialization.jsonObject(with: Data(asJSON.stdout.utf8)) as? [[String: Any]]
            #expect(rows?.count == 1 && rows?.first?["source"] as? String == "mark")
            #expect(!asJSON.stdout.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x9B })
        }
    }

    /// A viewer reads the timeline but cannot mark; the error names the role that may.
    @Test func aViewerReadsButCannotMark() throws {
        try TestDatabase.with { db in
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let url = (try? config.unredactedConninfo()) ?? ""
                let read = try QueuetopBinary.run(["timeline", "--db", url])
                #expect(read.status == 0, "\(read.stderr)")
                let write = try QueuetopBinary.run(["mark", "deploy v42", "--db", url])
                #expect(write.status != 0, "a viewer made a mark")
                #expect(write.stderr.contains("queuetop_producer") || write.stderr.contains("queuetop_operator")
                        || write.stderr.contains("permission"), "\(write.stderr)")
            }
        }
    }
}

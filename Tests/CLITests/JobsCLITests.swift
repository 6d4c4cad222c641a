import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// `queuetop jobs …` through the real binary: a bad filter is one line naming the term; list and
/// count work for a viewer; bulk actions confirm, need --yes without a terminal, are refused to
/// a viewer, and leave one audit row with the filter text and the count.
@Suite struct JobsCLITests {
    typealias E = EngineCommandTests

    @Test func aBadFilterIsOneLineNamingTheTermAndConnectsNowhere() throws {
        for command in [["jobs", "list"], ["jobs", "count"], ["jobs", "cancel", "--yes"]] {
            let r = try QueuetopBinary.run(command + ["--where", "qeue:emails", "--db", "postgres://u:secret@127.0.0.1:1/x"], timeout: 15)
            #expect(r.status != 0)
            #expect(r.stderr.contains("bad --where filter: unknown field 'qeue' at 1: did you mean queue?"), "\(r.stderr)")
            #expect(!r.stderr.contains("127.0.0.1") && !r.stderr.contains("secret"), "refused before connecting: \(r.stderr)")
        }
        let hostile = try QueuetopBinary.run(["jobs", "list", "--where", "state:\u{1b}[31mred", "--db", "postgres://u@127.0.0.1:1/x"], timeout: 15)
        #expect(hostile.status != 0 && !hostile.stderr.contains("\u{1b}"), "\(hostile.stderr.debugDescription)")
    }

    @Test func listAndCountFindThePayloadJobAndSayWhatTheySearched() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobFixtures.mixed(conn)
            let list = try E.queuetop(db, ["jobs", "list", "--where", "payload.to=ana@example.com", "--json"])
            #expect(list.status == 0, "\(list.stderr)")
            let object = try #require(try E.json(list.stdout) as? [String: Any])
            let jobs = try #require(object["jobs"] as? [[String: Any]])
            #expect(jobs.count == 1 && jobs.first?["queue"] as? String == "sync")
            #expect(object["where"] as? String == "payload.to=ana@example.com")
            let window = try #require(object["window"] as? [String: Any])
            #expect(window["rows_read"] as? Int == 420 && window["truncated"] as? Bool == false)

            let text = try E.queuetop(db, ["jobs", "list", "--where", "queue:sync payload.to=ana@example.com", "--window", "50"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("searched the newest 50 jobs of sync; n for more"), "\(text.stdout)")
            #expect(text.stdout.contains("more: --after "))

            let count = try E.queuetop(db, ["jobs", "count", "--where", "state:running"])
            #expect(count.status == 0 && count.stdout == "60\n", "\(count.stdout) \(count.stderr)")
            let capped = try E.queuetop(db, ["jobs", "count", "--where", "queue:emails", "--cap", "5", "--json"])
            let capObject = try #require(try E.json(capped.stdout) as? [String: Any])
            #expect(capObject["count"] as? Int == 5 && capObject["exact"] as? Bool == false)
        }
    }

    @Test func bulkCancelConfirmsNeedsYesInScriptsAndAuditsOnce() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobFixtures.mixed(conn)
            let target = "queue:emails state:scheduled"
            let scheduled = try E.int(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'emails' AND status = 'pending' AND run_at > now() AND attempt_count = 0")
            #expect(scheduled == 30)

            let refused = try E.queuetop(db, ["jobs", "cancel", "--where", target])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("Cancel \(scheduled) job(s) matching queue:emails state:scheduled as of "), "\(refused.stderr)")
            #expect(refused.stderr.contains("pass --yes to proceed"))
            #expect(try E.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'cancelled' AND cancel_reason = 'operator' AND queue = 'emails'") == 30)

            let done = try E.queuetop(db, ["jobs", "cancel", "--where", target, "--yes", "--json", "--batch-size", "7"])
            #expect(done.status == 0, "\(done.stderr)")
            let object = try #require(try E.json(done.stdout) as? [String: Any])
            #expect(object["matched"] as? Int == scheduled && object["changed"] as? Int == scheduled)
            #expect((object["sample"] as? [String])?.count == 5)
            #expect(try E.int(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'emails' AND status = 'pending' AND run_at > now() AND attempt_count = 0") == 0)
            let audits = try conn.query("SELECT affected::int, filter->>'where' FROM audit_log WHERE action = 'jobs.cancel'")
                .map { (try $0.decode(0, as: Int.self), try $0.decode(1, as: String.self)) }
            #expect(audits.count == 1 && audits.first?.0 == scheduled && audits.first?.1 == target)

            let again = try E.queuetop(db, ["jobs", "cancel", "--where", target, "--yes"])
            #expect(again.status == 0 && again.stdout.contains("nothing changed"), "\(again.stdout)")
            let bad = try E.queuetop(db, ["jobs", "priority", "--where", "state:pending", "--set", "5000000", "--yes"])
            #expect(bad.status != 0 && bad.stderr.contains("--set must be between -1000000 and 1000000"))
        }
    }

    @Test func aViewerListsButCannotAct() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobFixtures.mixed(conn)
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let url = try config.unredactedConninfo()
                let list = try QueuetopBinary.run(["jobs", "list", "--where", "state:dead", "--limit", "3", "--db", url])
                #expect(list.status == 0 && list.stdout.split(separator: "\n").count == 4, "\(list.stdout)\(list.stderr)")
                let cancel = try QueuetopBinary.run(["jobs", "requeue", "--where", "state:dead", "--yes", "--db", url])
                #expect(cancel.status != 0, "\(cancel.stdout)")
                #expect(cancel.stderr.contains("permission denied"), "\(cancel.stderr)")
                #expect(try E.int(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'dead_letter'") == 60)
            }
        }
    }

    /// Values from the database reach the terminal as text, never as control sequences, in the
    /// list, the JSON and the bulk confirmation's sample.
    @Test func hostileBytesStayData() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}gnp.exe\u{9b}31m"
            let ids = try JobStore(connection: conn).enqueue([NewJob(queue: "emails", type: "send\u{202e}x", tenant: "shop\u{200b}9")]).map(\.id)
            try conn.execute("SELECT \(qt: "fail_job")(\(ids[0]), \(evil), \(evil), NULL, false)")
            for args in [["jobs", "list", "--where", "state:dead"], ["jobs", "list", "--where", "state:dead", "--json"],
                         ["jobs", "delete", "--where", "state:dead"]] {
                let r = try E.queuetop(db, args)
                let out = r.stdout + r.stderr
                #expect(!out.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 || $0.value == 0x9b || $0.value == 0x202e },
                        "\(args): \(out.debugDescription)")
                #expect(out.contains("pwned"), "the text itself is shown: \(out.debugDescription)")
            }
            #expect(try E.int(conn, "SELECT count(*)::int FROM job_queue") == 1, "nothing deleted without --yes")
        }
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Many databases, one console (issue 21): three private clusters named in a contexts file,
/// and a primary with a streaming replica. The real binary, real servers, real tmux.
@Suite(.serialized) struct ContextsCLITests {
    /// Three migrated clusters a, b, c with different work in each, and the file naming them.
    final class Estate {
        let clusters: [String: PrivateCluster]
        let file: String

        init() throws {
            var clusters: [String: PrivateCluster] = [:]
            do {
                for name in ["a", "b", "c"] { clusters[name] = try PrivateCluster(prefix: "ctx-\(name)") }
            } catch {
                clusters.values.forEach { $0.destroy() }
                throw error
            }
            self.clusters = clusters
            file = NSTemporaryDirectory() + "qt-contexts-\(UUID().uuidString).toml"
            var text = ""
            for (name, cluster) in clusters.sorted(by: { $0.key < $1.key }) {
                text += "[contexts.\(name)]\nurl = \"\(cluster.url)\"\nregion = \"r-\(name)\"\n\n"
            }
            text += "[groups.mail]\nqueue = \"emails\"\nshards = [\"a\", \"b\", \"c\"]\n"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }

        func connect(_ name: String) throws -> Connection { try Connection.connect(clusters[name]!.config) }

        func destroy() {
            clusters.values.forEach { $0.destroy() }
            try? FileManager.default.removeItem(atPath: file)
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    static func deadLetters(_ conn: Connection) throws -> Int {
        try conn.query("SELECT count(*)::int FROM \(qt: "job_queue") WHERE status = 'dead_letter'").scalar(Int.self)
    }

    /// Sums a key of every queue's counts in one `status --json` document.
    static func sum(_ status: [String: Any], _ key: String) -> Int {
        ((status["queues"] as? [[String: Any]]) ?? []).reduce(0) { $0 + (($1["counts"] as? [String: Any])?[key] as? Int ?? 0) }
    }

    @Test func threeClustersOneConsole() throws {
        let estate = try Estate()
        defer { estate.destroy() }
        let ctx = ["--contexts", estate.file]
        // Different work in each: a has 3 dead + 2 pending, b 5 dead, c 1 pending.
        do {
            let a = try estate.connect("a"), b = try estate.connect("b"), c = try estate.connect("c")
            defer { a.close(); b.close(); c.close() }
            try seedDeadLetters(a, 3, queue: "emails", type: "smtp_error")
            _ = try JobStore(connection: a).enqueue([NewJob(queue: "emails", type: "send"), NewJob(queue: "reports", type: "build")])
            try seedDeadLetters(b, 5, queue: "emails", type: "smtp_error")
            _ = try JobStore(connection: c).enqueue([NewJob(queue: "emails", type: "send")])
        }

        // `contexts list`: every context answers.
        let list = try QueuetopBinary.run(["contexts", "list", "--json"] + ctx, timeout: 60)
        #expect(list.status == 0, "\(list.stderr)")
        let listed = try #require(try Self.json(list.stdout)["contexts"] as? [[String: Any]])
        #expect(listed.map { $0["name"] as? String } == ["a", "b", "c"])
        #expect(listed.allSatisfy { ($0["primary"] as? [String: Any])?["state"] as? String == "ok" }, "\(list.stdout)")

        // The summed overview equals the sum of each context's own `status --json`.
        var single: [String: [String: Any]] = [:]
        for name in ["a", "b", "c"] {
            let run = try QueuetopBinary.run(["status", "--json", "--context", name] + ctx, timeout: 60)
            #expect(run.status == 0, "\(run.stderr)")
            single[name] = try Self.json(run.stdout)
        }
        let all = try QueuetopBinary.run(["status", "--json", "--all-contexts"] + ctx, timeout: 60)
        #expect(all.status == 0, "\(all.stderr)")
        let allJSON = try Self.json(all.stdout)
        let total = try #require(allJSON["total"] as? [String: Any])
        for (key, field) in [("pending", "pending"), ("processing", "processing"), ("dead_letter", "dead_letter")] {
            let expected = single.values.reduce(0) { $0 + Self.sum($1, field) }
            #expect(total[key] as? Int == expected, "\(key): \(total) vs the contexts' own \(expected)")
        }
        #expect(total["dead_letter"] as? Int == 8 && total["pending"] as? Int == 3, "\(total)")
        let summedEmails = try #require((total["queues"] as? [[String: Any]])?.first { $0["queue"] as? String == "emails" })
        #expect(summedEmails["contexts"] as? [String] == ["a", "b", "c"] && summedEmails["dead_letter"] as? Int == 8)
        let perContext = try #require(allJSON["queues"] as? [[String: Any]])
        #expect(perContext.filter { $0["queue"] as? String == "emails" }.map { $0["context"] as? String } == ["a", "b", "c"])
        let text = try QueuetopBinary.run(["status", "--all-contexts"] + ctx, timeout: 60)
        #expect(text.stdout.contains("TOTAL  backlog 3 (pending 3, running 0)  DLQ 8"), "\(text.stdout)")

        // A requeue in one context changes exactly that database, and its audit row is there.
        let requeue = try QueuetopBinary.run(["dlq", "requeue", "--all", "--queue", "emails", "--yes", "--context", "b"] + ctx, timeout: 60)
        #expect(requeue.status == 0 && requeue.stdout.contains("requeued 5 job(s)"), "\(requeue.stdout) \(requeue.stderr)")
        do {
            let a = try estate.connect("a"), b = try estate.connect("b"), c = try estate.connect("c")
            defer { a.close(); b.close(); c.close() }
            #expect(try Self.deadLetters(a) == 3, "a untouched")
            #expect(try Self.deadLetters(b) == 0, "b requeued")
            #expect(try Self.deadLetters(c) == 0, "c had none")
            let audited = { (conn: Connection) in try conn.query("SELECT count(*)::int FROM \(qt: "audit_log")").scalar(Int.self) }
            #expect(try audited(b) >= 1, "the audit row is in b")
            #expect(try audited(a) == 0 && (try audited(c)) == 0, "and nowhere else")
        }
        // Without a terminal the question names the context.
        let asked = try QueuetopBinary.run(["dlq", "requeue", "--all", "--context", "a"] + ctx, timeout: 60)
        #expect(asked.status != 0 && asked.stderr.contains("Requeue 3 dead-letter job(s) on context a?"), "\(asked.stderr)")

        // enqueue --group: the documented hash picks the shard ("acme" -> a, "globex" -> b, "tenant-1" -> c of three).
        for (tenant, shard) in [("acme", "a"), ("globex", "b"), ("tenant-1", "c")] {
            let run = try QueuetopBinary.run(["enqueue", "emails", "--group", "mail", "--type", "send", "--tenant", tenant, "--json"] + ctx, timeout: 60)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try Self.json(run.stdout)["context"] as? String == shard, "\(tenant): \(run.stdout)")
            let conn = try estate.connect(shard)
            defer { conn.close() }
            #expect(try conn.query("SELECT count(*)::int FROM \(qt: "job_queue") WHERE tenant = \(tenant)").scalar(Int.self) == 1)
        }
        let keyless = try QueuetopBinary.run(["enqueue", "emails", "--group", "mail", "--type", "send"] + ctx, timeout: 60)
        #expect(keyless.status != 0 && keyless.stderr.contains("--group needs --tenant or --dedup-key"), "\(keyless.stderr)")
        let otherQueue = try QueuetopBinary.run(["enqueue", "sms", "--group", "mail", "--type", "send", "--tenant", "x"] + ctx, timeout: 60)
        #expect(otherQueue.status != 0 && otherQueue.stderr.contains("group mail shards queue emails, not sms"), "\(otherQueue.stderr)")

        // The dashboard on a, then `:ctx`, a switch to b, the all view; then c goes down.
        let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path])
        defer { tmux.close() }
        try tmux.type("\"$QT_BIN\" --no-workers --refresh 0.5 --context a --contexts '\(estate.file)'; echo \"exit=$?\"", enter: true)
        #expect(tmux.waitFor(timeout: 30) { $0.contains("ctx a") } != nil, "the header names the context: \(tmux.screen())")
        try tmux.type(":ctx", enter: true)
        let picker = tmux.waitFor(timeout: 20) { s in ["a", "b", "c"].allSatisfy { s.contains(" \($0) ") } && s.components(separatedBy: " ok ").count >= 4 }
        #expect(picker != nil, ":ctx lists the three contexts, all ok: \(tmux.screen())")
        try tmux.keys("Down")
        try tmux.keys("Enter")
        #expect(tmux.waitFor(timeout: 30) { $0.contains("ctx b") && $0.contains("context b") } != nil, "switched to b: \(tmux.screen())")
        try tmux.type(":all", enter: true)
        let allView = tmux.waitFor(timeout: 20) { $0.contains("ALL CONTEXTS") && $0.contains("3 of 3 contexts") }
        #expect(allView != nil, "the all view adds up the three: \(tmux.screen())")

        try estate.clusters["c"]!.stop()
        let cDown = tmux.waitFor(timeout: 60) { $0.contains("c disconnected") && $0.contains("2 of 3 contexts") && $0.contains("not counted: c") }
        #expect(cDown != nil, "only c is disconnected, the others still add up: \(tmux.screen())")
        #expect(tmux.screen().contains("a ok") && tmux.screen().contains("b ok"), "\(tmux.screen())")

        // The others keep refreshing while c is down: their snapshots' times move on.
        let before = try Self.json(try QueuetopBinary.run(["status", "--json", "--all-contexts"] + ctx, timeout: 60).stdout)
        Thread.sleep(forTimeInterval: 1.5)
        let after = try Self.json(try QueuetopBinary.run(["status", "--json", "--all-contexts"] + ctx, timeout: 60).stdout)
        #expect(after["disconnected"] as? [String] == ["c"], "\(after["disconnected"] ?? "-")")
        func generated(_ doc: [String: Any], _ name: String) -> String? {
            ((doc["contexts"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["status"] as? [String: Any])?["generated_at"] as? String
        }
        for name in ["a", "b"] {
            let t0 = try #require(generated(before, name)), t1 = try #require(generated(after, name))
            #expect(t1 > t0, "\(name) refreshed while c was down: \(t0) -> \(t1)")
        }
        let downList = try Self.json(try QueuetopBinary.run(["contexts", "list", "--json"] + ctx, timeout: 60).stdout)
        let states = ((downList["contexts"] as? [[String: Any]]) ?? []).map { (($0["primary"] as? [String: Any])?["state"] as? String) ?? "?" }
        #expect(states == ["ok", "ok", "disconnected"], "\(states)")
        try tmux.type("Q")
        #expect(tmux.waitFor(timeout: 30) { $0.contains("exit=0") } != nil, "\(tmux.screen())")
    }

    @Test func aContextWithAReplicaReadsThereAndActsOnThePrimary() throws {
        let replica = try StreamingReplica(prefix: "ctx-r")
        defer { replica.destroy() }
        let file = NSTemporaryDirectory() + "qt-contexts-\(UUID().uuidString).toml"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try """
            [contexts.eu-1]
            url = "\(replica.primary.url)"
            replica = "\(replica.url)"

            [contexts.eu-ro]
            replica = "\(replica.url)"
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let ctx = ["--contexts", file]
        do {
            let p = try Connection.connect(replica.primary.config)
            defer { p.close() }
            try seedDeadLetters(p, 2, queue: "emails", type: "smtp_error")
        }
        try replica.catchUp()

        // status reads the replica (it says standby); a pause goes to the primary and works.
        let status = try Self.json(try QueuetopBinary.run(["status", "--json", "--context", "eu-1"] + ctx, timeout: 60).stdout)
        #expect(status["standby"] as? Bool == true, "reads come from the replica")
        let pause = try QueuetopBinary.run(["queue", "pause", "emails", "--context", "eu-1"] + ctx, timeout: 60)
        #expect(pause.status == 0, "writes go to the primary: \(pause.stderr)")
        // A replica-only context is read-only and says so, before anything is sent.
        let refused = try QueuetopBinary.run(["queue", "resume", "emails", "--context", "eu-ro"] + ctx, timeout: 60)
        #expect(refused.status != 0 && refused.stderr.contains("context eu-ro has only a replica: it is read-only"), "\(refused.stderr)")
        // Both at once is a mistake, not a guess.
        let both = try QueuetopBinary.run(["status", "--context", "eu-1", "--db", replica.url] + ctx, timeout: 60)
        #expect(both.status != 0 && both.stderr.contains("give --db or --context, not both"), "\(both.stderr)")

        // The dashboard: its refreshes run on the replica, none on the primary (pg_stat_activity).
        let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path])
        defer { tmux.close() }
        try tmux.type("\"$QT_BIN\" --no-workers --refresh 0.5 --context eu-1 --contexts '\(file)'; echo \"exit=$?\"", enter: true)
        #expect(tmux.waitFor(timeout: 30) { $0.contains("ctx eu-1 replica lag 0s") && $0.contains("standby: caught up") } != nil,
                "the header names the context, the footer the replica's lag: \(tmux.screen())")
        #expect(!tmux.screen().contains("READ-ONLY"), "a context with a primary may act: \(tmux.screen())")
        // Sessions of the dashboard (application_name queuetop…) and what each ran last: on
        // the replica its reads; on the primary nothing but the change listener's LISTEN.
        func sessions(_ config: ConnectionConfig) throws -> [String] {
            let conn = try Connection.connect(config)
            defer { conn.close() }
            return try conn.query("""
                SELECT coalesce(query, '') AS query FROM pg_stat_activity
                 WHERE application_name LIKE 'queuetop%' AND pid <> pg_backend_pid()
                """).map { try $0.decode("query") as String }
        }
        Thread.sleep(forTimeInterval: 2)
        let onReplica = try sessions(replica.config), onPrimary = try sessions(replica.primary.config)
        #expect(onReplica.contains { !$0.uppercased().hasPrefix("LISTEN") && !$0.isEmpty }, "the dashboard reads on the replica: \(onReplica)")
        // The listener: LISTEN, and UNLISTEN of the probe that checks notifications arrive.
        #expect(onPrimary.allSatisfy { $0.uppercased().hasPrefix("LISTEN") || $0.uppercased().hasPrefix("UNLISTEN") },
                "only the listener is on the primary: \(onPrimary)")
        try tmux.type("Q")
        #expect(tmux.waitFor(timeout: 30) { $0.contains("exit=0") } != nil, "\(tmux.screen())")
    }
}

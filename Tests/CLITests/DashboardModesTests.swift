import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The real dashboard in tmux: a capital Q typed after `:` or `/` is a letter, and read-only
/// (asked for, or because the role may not act) runs no workers and changes nothing.
@Suite(.serialized) struct DashboardModesTests {
    @Test func capitalQTypedInTheCommandLineAndTheFilterIsALetter() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "emails", type: "send", payload: JSONText("{}")))
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            // Waits sit outside #expect: Swift 6.3.1 gave the closure inside #expect's argument and
            // the later "Quarterly Q4" closure one symbol, so the 120 s wait ran `contains("emails")`
            // (false once the filter hid the queue). See docs/TESTING.md "Closures inside #expect".
            let overview = tmux.waitFor(timeout: 30) { $0.contains("emails") }
            #expect(overview != nil, "the overview is up")
            try tmux.type(":queue QA-Queue", enter: true)
            let refused = tmux.waitFor(timeout: 30) { $0.contains("unknown queue 'QA-Queue'") }
            #expect(refused != nil, "the whole name was typed, Q included: \(tmux.screen())")
            #expect(tmux.alternateScreenOn, "still running")
            // Pasted into the filter (send-keys -l sends it as typed text).
            try tmux.type("/")
            try tmux.type("Quarterly Q4")
            // "Quarterly Q4" anywhere while curses runs: had the Q quit, the shell would hold
            // "uarterly Q4" and the alternate screen would be off (checked below).
            let filtered = tmux.waitFor(timeout: 30) { $0.contains("Quarterly Q4") }
            #expect(filtered != nil, "the filter holds the text: \(tmux.screen())")
            #expect(tmux.alternateScreenOn, "still running")
            try tmux.keys("Escape")
            // Normal mode again: Q quits.
            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }

    /// `--read-only` on a queue with work waiting: no embedded pool connects, and after a few
    /// seconds of the dashboard refreshing, `job_queue` is exactly as it was.
    @Test func readOnlyOnABusyQueueRunsNoWorkersAndChangesNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = JobStore(connection: conn)
            for i in 0..<40 {
                _ = try store.enqueue(NewJob(queue: "busy", type: "unhandled", payload: JSONText(#"{"n": \#(i)}"#)))
            }
            _ = try seedDeadLetters(conn, 3, type: "timeout")
            func digest() throws -> String {
                try conn.query("""
                    SELECT md5(string_agg(id::text || status || attempt_count, ',' ORDER BY id)) FROM \(qt: "job_queue")
                    """).scalar(String.self)
            }
            func workerConnections() throws -> Int64 {
                try conn.query("""
                    SELECT count(*) FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name LIKE 'queuetop worker%'
                    """).scalar(Int64.self)
            }
            let before = try digest()
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --read-only --refresh 0.5")
            #expect(tmux.waitFor(timeout: 30) { $0.contains("busy") && $0.contains("READ-ONLY") } != nil, "\(tmux.screen())")
            var most: Int64 = 0
            for _ in 0..<30 {
                most = max(most, try workerConnections())
                Thread.sleep(forTimeInterval: 0.1)
            }
            #expect(most == 0, "\(most) embedded worker connections")
            #expect(try digest() == before, "job_queue changed under a read-only dashboard")
            try tmux.keys("Q")
            tmux.expectRestoredShell()
            #expect(try digest() == before)
        }
    }

    /// A viewer's plain `queuetop` (the default command, worker options and all) opens the
    /// dashboard read-only and says why, instead of exiting with "cannot start the embedded workers".
    @Test func aViewersPlainQueuetopOpensReadOnlyAndSaysWhy() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "emails", type: "send", payload: JSONText("{}")))
            try db.withLoginRole(in: "queuetop_viewer") { config, roleName in
                let tmux = try TmuxSession(width: 120, height: 40,
                                           environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": try config.unredactedConninfo()])
                defer { tmux.close() }
                try tmux.type("\"$QT_BIN\" --db \"$QT_DB\"; echo \"exit=$?\"", enter: true)
                let open = tmux.waitFor(timeout: 20) { $0.contains("emails") && $0.contains("READ-ONLY") }
                #expect(open != nil, "the dashboard opened read-only: \(tmux.screen())")
                #expect(open?.contains("role \(roleName) may not run operator actions") == true, "it says why: \(open ?? "")")
                let workers = try conn.query("""
                    SELECT count(*) FROM pg_stat_activity WHERE usename = \(roleName) AND application_name LIKE 'queuetop worker%'
                    """).scalar(Int64.self)
                #expect(workers == 0)
                try tmux.keys("Q")
                tmux.expectRestoredShell(shellLinesVisible: false)
            }
        }
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// queuetop on a hot standby (issue 17, item 7): the real binary against a real streaming
/// replica of a private primary (`StreamingReplica`). A standby says so and how far replay is
/// behind, polls instead of LISTEN without filling the replica's log, and refuses writes up
/// front, naming the primary.
@Suite(.serialized) struct StandbyTests {
    static func readLog(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// The replica's log lines from `offset` on that report an error (ERROR, FATAL, STATEMENT).
    static func errorLines(_ path: String, from offset: Int) -> [String] {
        readLog(path).utf8.dropFirst(offset).split(separator: UInt8(ascii: "\n"))
            .map { String(decoding: $0, as: UTF8.self) }
            .filter { $0.contains("ERROR:") || $0.contains("FATAL:") || $0.contains("STATEMENT:") }
    }

    /// A streaming replica of a private primary, and a connection to that primary.
    static func startReplica() throws -> (StreamingReplica, Connection) {
        let replica = try StreamingReplica()
        do { return (replica, try Connection.connect(replica.primary.config)) } catch { replica.destroy(); throw error }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "status --json: \(text)")
    }

    @Test func theDashboardAndStatusWatchSayStandbyAndPollWithoutAnErrorInTheReplicasLog() throws {
        let (replica, primary) = try Self.startReplica()
        defer { primary.close(); replica.destroy() }
        let url = replica.url
        let logStart = Self.readLog(replica.logPath).utf8.count

        // No --read-only: the dashboard finds out by itself, and says why and where to go.
        let tmux = try TmuxSession(width: 160, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": url])
        defer { tmux.close() }
        try tmux.launchDashboard("--refresh 0.5")
        let opened = tmux.waitFor(timeout: 20) {
            $0.contains("STANDBY") && $0.contains("standby: caught up")
                && $0.contains("this is a read-only standby; connect to the primary (\(replica.primaryAddress))")
        }
        #expect(opened != nil, "the dashboard says standby, caught up, and names the primary: \(tmux.screen())")

        // `status --watch` alongside, for 30 s: neither may LISTEN (or NOTIFY, or write) there.
        let watchLog = NSTemporaryDirectory() + "qt-standby-watch-\(UUID().uuidString).log"
        let watch = try QueuetopBinary.start(["status", "--watch", "0.5", "--db", url], stderrLog: watchLog)
        // SIGKILL: a child of Foundation's Process starts with SIGTERM blocked, and `status`
        // (unlike the dashboard and the worker) does not unblock it.
        func stopWatch() { if watch.isRunning { kill(watch.processIdentifier, SIGKILL); watch.waitUntilExit() } }
        defer { stopWatch() }
        Thread.sleep(forTimeInterval: 30)
        #expect(watch.isRunning, "status --watch keeps running on a standby: \(Self.readLog(watchLog))")
        stopWatch()
        let errors = Self.errorLines(replica.logPath, from: logStart)
        #expect(errors.isEmpty, "the replica logged errors while the dashboard and status --watch ran:\n\(errors.joined(separator: "\n"))")
        #expect(tmux.screen().contains("standby: caught up"), "still caught up: \(tmux.screen())")

        // Replay paused while the primary moves on: the footer says so instead of a fresh age.
        try replica.setReplayPaused(true)
        try seedDeadLetters(primary, 1, queue: "after_pause", type: "x")
        let paused = tmux.waitFor(timeout: 15) { $0.contains("standby: replay paused") }
        #expect(paused != nil, "the footer says replay is paused: \(tmux.screen())")
        try tmux.type("Q")
        tmux.expectRestoredShell()
    }

    @Test func statusJSONAndTextCarryTheStandbyFlagAndAnHonestLag() throws {
        let (replica, primary) = try Self.startReplica()
        defer { primary.close(); replica.destroy() }
        let url = replica.url

        // The primary says it is none.
        let onPrimary = try QueuetopBinary.run(["status", "--json", "--db", replica.primary.url], timeout: 30)
        #expect(onPrimary.status == 0, "\(onPrimary.stderr)")
        let primaryJSON = try Self.json(onPrimary.stdout)
        #expect(primaryJSON["standby"] as? Bool == false)
        #expect(primaryJSON["replay"] is NSNull)
        #expect(primaryJSON["queues"] != nil, "the snapshot's own keys are still there")

        // Caught up with an idle primary: the last replayed transaction grows old, the lag does not.
        try seedDeadLetters(primary, 1, queue: "before", type: "x")
        try replica.catchUp()
        Thread.sleep(forTimeInterval: 3)
        let caughtUp = try QueuetopBinary.run(["status", "--json", "--db", url], timeout: 30)
        #expect(caughtUp.status == 0, "\(caughtUp.stderr)")
        let caughtUpJSON = try Self.json(caughtUp.stdout)
        #expect(caughtUpJSON["standby"] as? Bool == true)
        let replay = try #require(caughtUpJSON["replay"] as? [String: Any], "\(caughtUp.stdout)")
        #expect(replay["state"] as? String == "caught_up")
        #expect(replay["lag_seconds"] as? Double == 0)
        #expect((replay["data_age_seconds"] as? Double ?? 0) >= 3, "the last transaction is old: \(replay)")
        #expect(replay["primary"] as? String == replica.primaryAddress)
        let text = try QueuetopBinary.run(["status", "--db", url], timeout: 30)
        #expect(text.stdout.contains("standby: caught up"), "\(text.stdout)")
        #expect(!text.stdout.contains("notifications are not delivered"), "a standby is not a pooler: \(text.stdout)")

        // Paused: the JSON says so and has no lag; the text's time is the last replayed
        // transaction's, from before the write the standby has not applied.
        try replica.setReplayPaused(true)
        Thread.sleep(forTimeInterval: 0.5)
        try seedDeadLetters(primary, 1, queue: "after_the_pause", type: "x")
        let writtenAt = try primary.query("SELECT now()").scalar(Date.self)
        let pausedRun = try QueuetopBinary.run(["status", "--json", "--db", url], timeout: 30)
        let pausedReplay = try #require(try Self.json(pausedRun.stdout)["replay"] as? [String: Any], "\(pausedRun.stdout)")
        #expect(pausedReplay["state"] as? String == "paused")
        #expect(pausedReplay["lag_seconds"] is NSNull)
        let replayedAt = try #require((pausedReplay["last_replayed_at"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) })
        #expect(replayedAt < writtenAt.addingTimeInterval(-1), "data is as of before the write: \(replayedAt) vs \(writtenAt)")
        let pausedText = try QueuetopBinary.run(["status", "--db", url], timeout: 30)
        #expect(pausedText.stdout.contains("standby: replay paused, data from"), "\(pausedText.stdout)")
        #expect(pausedText.stdout.hasPrefix("queuetop status  \(ISO8601DateFormatter().string(from: replayedAt))"),
                "the header's time is the last replayed transaction's: \(pausedText.stdout)")
        #expect(!pausedText.stdout.contains("after_the_pause"), "the standby has not replayed the new queue")
    }

    @Test func everyWritingCommandIsRefusedUpFrontNamingThePrimary() throws {
        let (replica, primary) = try Self.startReplica()
        defer { primary.close(); replica.destroy() }
        let url = replica.url
        let dead = try seedDeadLetters(primary, 3, queue: "emails", type: "smtp")
        let added = try QueuetopBinary.run(["schedule", "add", "nightly", "0 3 * * *", "emails", "send",
                                            "--db", replica.primary.url], timeout: 30)
        #expect(added.status == 0, "schedule add on the primary: \(added.stderr)")
        try replica.catchUp()
        let logStart = Self.readLog(replica.logPath).utf8.count

        let refusal = "this is a read-only standby; connect to the primary (\(replica.primaryAddress))"
        let requeue = try QueuetopBinary.run(["dlq", "requeue", "--all", "--queue", "emails", "--yes", "--db", url], timeout: 30)
        #expect(requeue.status != 0, "dlq requeue exits non-zero: \(requeue.stdout)")
        #expect(requeue.stderr.contains(refusal), "\(requeue.stderr)")
        #expect(try jobStatuses(primary, dead) == ["dead_letter"], "nothing was requeued")

        let commands: [[String]] = [
            ["dlq", "delete", "--all", "--queue", "emails", "--yes"],
            ["enqueue", "emails", "--type", "send", "--payload", "{}"],
            ["queue", "pause", "emails"], ["queue", "resume", "emails"], ["queue", "scale", "emails", "3"],
            ["migrate"],
            ["schedule", "disable", "nightly"], ["schedule", "run", "nightly"],
            ["worker", "--queues", "emails"],
            ["workers", "quiet", "--all"], ["workers", "drain", "--all"],
            ["jobs", "cancel", "--where", "queue:emails", "--yes"], ["jobs", "requeue", "--where", "state:dead", "--yes"],
            ["jobs", "delete", "--where", "state:dead", "--yes"],
        ]
        for command in commands {
            let r = try QueuetopBinary.run(command + ["--db", url], timeout: 30)
            #expect(r.status != 0 && r.stderr.contains(refusal), "\(command.joined(separator: " ")): exit \(r.status), \(r.stderr)")
        }
        #expect(try jobStatuses(primary, dead) == ["dead_letter"], "nothing was deleted")
        #expect(try primary.query("SELECT count(*)::int FROM \(qt: "job_queue")").scalar(Int.self) == 3, "nothing was enqueued")
        // Refused before anything was sent: the standby never saw a write to refuse.
        let errors = Self.errorLines(replica.logPath, from: logStart)
        #expect(errors.isEmpty, "the replica logged errors:\n\(errors.joined(separator: "\n"))")

        // A role that may not read pg_stat_wal_receiver's details is sent to "the primary".
        try primary.executeScript("CREATE ROLE standby_oncall LOGIN IN ROLE queuetop_operator")
        try replica.catchUp()
        let oncall = try replica.config.overriding("user", "standby_oncall").unredactedConninfo()
        let anonymous = try QueuetopBinary.run(["dlq", "requeue", "--all", "--queue", "emails", "--yes", "--db", oncall], timeout: 30)
        #expect(anonymous.status != 0, "\(anonymous.stdout)")
        #expect(anonymous.stderr.contains("this is a read-only standby; connect to the primary"), "\(anonymous.stderr)")
        #expect(!anonymous.stderr.contains("127.0.0.1"), "no address for a role that may not read it: \(anonymous.stderr)")
    }
}

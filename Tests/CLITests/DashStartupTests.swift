import Foundation
import TestSupport
import Testing

/// Everything that stops the dashboard from starting is a plain message on a normal terminal,
/// a non-zero exit, and no curses left behind.
@Suite(.serialized) struct DashStartupTests {
    @Test func withoutATerminalTheDashboardAndPlainQueuetopExit2WithAClearMessage() throws {
        for arguments in [["dash", "--no-workers"], []] {
            let r = try QueuetopBinary.run(arguments + ["--db", "postgres://u:secret@127.0.0.1:1/x"], timeout: 15)
            #expect(r.status == 2, "queuetop \(arguments): \(r.stderr)")
            #expect(r.stderr.contains("not a terminal") && r.stderr.contains("queuetop status"))
            #expect(!(r.stdout + r.stderr).contains("secret"))
        }
    }

    @Test func anOutOfRangeRefreshIsRefusedBeforeAnythingStarts() throws {
        let r = try QueuetopBinary.run(["dash", "--refresh", "0.1"])
        #expect(r.status != 0 && r.status != 2)
        #expect(r.stderr.contains("--refresh must be between 0.5 and 60 seconds"))
    }

    @Test func anUnreachableDatabaseIsReportedBeforeCursesStartsWithoutThePassword() throws {
        let tmux = try TmuxSession(width: 80, height: 24, environment: ["QT_BIN": QueuetopBinary.path])
        defer { tmux.close() }
        try tmux.type("\"$QT_BIN\" --no-workers --db postgres://u:secret@127.0.0.1:1/x; echo \"exit=$?\"", enter: true)
        let screen = tmux.waitFor(timeout: 20) { $0.split(separator: "\n").contains { $0.hasPrefix("exit=") } }
        #expect(screen?.contains("exit=1") == true, "\(tmux.screen())")
        #expect(screen?.contains("cannot reach the database") == true && screen?.contains("127.0.0.1:1") == true)
        let output = screen?.split(separator: "\n").filter { !$0.contains("$QT_BIN") } ?? []
        #expect(!output.isEmpty && !output.contains { $0.contains("secret") }, "no password in what queuetop printed")
        #expect(!tmux.alternateScreenOn)
    }
}

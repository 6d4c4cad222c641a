import Foundation
import Testing
import TerminalUI
import QueueStore

/// The contexts feature on screen (issue 21): the context in the header, the `:ctx` list with
/// each context's state, the all view with one context down, and a confirmation naming its
/// database. Goldens at 80×24, 120×40 and in ASCII.
@Suite struct ContextsScreenTests {
    typealias F = DashboardFixture

    static func draw(_ state: DashboardState, _ width: Int = 80, _ height: Int = 24, ascii: Bool = false) -> ScreenBuffer {
        DashboardScreenTests.draw(state, width, height, ascii: ascii)
    }

    /// On eu-1 (which reads from its replica), with us-1 answering, ap-1 down and sa-1 slow.
    static var state: DashboardState {
        var state = F.state(.overview)
        var us = F.snapshot
        us.queues = Array(us.queues.prefix(2))
        us.alerts = []
        state.contexts.entries = [
            ContextEntry(name: "ap-1", labels: "region=ap"),
            ContextEntry(name: "eu-1", labels: "region=eu shard=a", readsFromReplica: true),
            ContextEntry(name: "sa-1", labels: "region=sa"),
            ContextEntry(name: "us-1", labels: "region=us shard=b"),
        ]
        state.contexts.entries[0].link = .disconnected(reason: "connection refused")
        state.contexts.entries[1].link = .connected
        state.contexts.entries[1].summary = F.snapshot.summary
        state.contexts.entries[1].refreshedAt = F.ago(1)
        state.contexts.entries[1].standby = StandbyStatus(replay: .caughtUp, lastReplayedAt: F.ago(4), dataAgeSeconds: 4, waitingBytes: 0, primary: nil)
        state.contexts.entries[2].link = .connected
        state.contexts.entries[2].summary = us.summary
        state.contexts.entries[2].refreshedAt = F.ago(40)
        state.contexts.entries[3].link = .connected
        state.contexts.entries[3].summary = us.summary
        state.contexts.entries[3].refreshedAt = F.ago(1)
        state.contexts.current = "eu-1"
        state.contexts.poolContext = "eu-1"
        return state
    }

    @Test func theHeaderAlwaysNamesTheContext() throws {
        let text = Self.draw(Self.state).plainText()
        #expect(text.split(separator: "\n").first?.contains("ctx eu-1") == true, "\(text)")
        // Reading from its replica: the header gives the replica's lag, and no STANDBY (actions
        // still go to the primary).
        var state = Self.state
        state.standby = StandbyStatus(replay: .behind, lastReplayedAt: F.ago(12), dataAgeSeconds: 12, waitingBytes: 4096, primary: nil)
        let header = String(Self.draw(state).plainText().split(separator: "\n").first ?? "")
        #expect(header.contains("ctx eu-1 replica lag 12s") && !header.contains("STANDBY"), "\(header)")
    }

    @Test func ctxListsEveryContextWithItsState() throws {
        var state = Self.state
        state.contexts.pickerCursor = 1
        try assertScreen(Self.draw(state), named: "contexts-picker-80x24")
        try assertScreen(Self.draw(state, 120, 40), named: "contexts-picker-120x40")
        try assertScreen(Self.draw(state, ascii: true), named: "contexts-picker-ascii-80x24")
        let text = Self.draw(state, 120, 40).plainText()
        #expect(text.contains("ap-1") && text.contains("disconnected"))
        #expect(text.contains("stale 40s"), "a slow context is marked stale: \(text)")
        #expect(text.contains("replica lag 0s"))

        // A label is the operator's text from the file: drawn, never obeyed.
        state.contexts.entries[3].labels = "region=us\u{1b}[2J\u{7}"
        let hostile = Self.draw(state, 120, 40).plainText()
        #expect(!hostile.contains("\u{1b}") && !hostile.contains("\u{7}") && hostile.contains("region=us"), "\(hostile)")
    }

    @Test func theAllViewAddsUpTheContextsThatAnswerAndNamesTheOthers() throws {
        var state = Self.state
        state.contexts.allView = true
        try assertScreen(Self.draw(state), named: "contexts-all-80x24")
        try assertScreen(Self.draw(state, 120, 40), named: "contexts-all-120x40")
        try assertScreen(Self.draw(state, ascii: true), named: "contexts-all-ascii-80x24")
        let text = Self.draw(state, 120, 40).plainText()
        #expect(text.contains("ALL CONTEXTS"))
        #expect(text.contains("2 of 4 contexts (not counted: ap-1, sa-1)"), "\(text)")
        #expect(text.contains("ap-1 disconnected"))
        let fresh = state.freshContextSummaries
        #expect(fresh.map(\.context) == ["eu-1", "us-1"])
        let totals = HealthSum.totals(fresh)
        #expect(text.contains("backlog \(Format.count(Int(totals.backlog)))"), "\(text)")
        // Alerts from eu-1 name their context.
        #expect(text.contains("eu-1: "), "\(text)")
        // A queue with nothing pending has no oldest job: "-", as on the overview, never "0s"
        // (the demo's all view said "0s" where the overview of the same context said "-").
        let idle = text.split(separator: "\n").first { $0.contains("lead-migration") }.map(String.init) ?? ""
        #expect(idle.hasSuffix("-│") && !idle.contains("0s"), "\(idle)")

        state.contexts.sumByQueue = true
        try assertScreen(Self.draw(state, 120, 40), named: "contexts-all-summed-120x40")
        let summed = Self.draw(state, 120, 40).plainText()
        #expect(summed.contains("eu-1,us-1"), "a queue in both is one row naming both: \(summed)")
    }

    /// With nothing pending anywhere the totals line has no oldest job either: "oldest -",
    /// not "oldest 0s" (which reads as a job that just arrived).
    @Test func theAllViewTotalsSayNoOldestWhenNothingIsPending() throws {
        var state = Self.state
        state.contexts.allView = true
        for i in state.contexts.entries.indices {
            guard var summary = state.contexts.entries[i].summary else { continue }
            summary.queues = summary.queues.map { q in
                var q = q
                q.counts.pending = 0
                q.oldestPendingSeconds = 0
                return q
            }
            state.contexts.entries[i].summary = summary
        }
        let text = Self.draw(state, 120, 40).plainText()
        #expect(text.contains("oldest -"), "\(text)")
        #expect(!text.contains("oldest 0s"), "\(text)")
    }

    @Test func theConfirmationNamesTheContext() throws {
        var state = F.state(.dlq)
        state.contexts = Self.state.contexts
        state.confirmation = Confirmation(action: .requeueGroup(F.smtpKey, resetAttempts: false, asOf: nil), count: 120, context: "eu-1")
        let text = Self.draw(state).plainText()
        #expect(text.contains("Requeue 120 jobs from emails / smtp_error 5d41402abc4b on eu-1?"), "\(text)")
        try assertScreen(Self.draw(state), named: "contexts-confirm-80x24")
    }
}

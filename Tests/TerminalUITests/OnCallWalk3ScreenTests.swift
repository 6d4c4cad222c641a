import Foundation
import Testing
import TerminalUI
@testable import QueueStore
import Postgres

/// What an operator still tripped over at 80 columns on the third 3 a.m. walk (walk3): a paused
/// queue that did not say who paused it, the Audit screen's FILTER and the Timeline's WHAT
/// columns too narrow to read, and the queue screen cutting its failed/DLQ line. Each test fails
/// on the screen as it was.
@Suite struct OnCallWalk3ScreenTests {
    typealias F = DashboardFixture

    static func draw(_ state: DashboardState, _ width: Int = 80, _ height: Int = 24, ascii: Bool = false) -> ScreenBuffer {
        DashboardScreenTests.draw(state, width, height, ascii: ascii)
    }

    static func lines(_ buffer: ScreenBuffer) -> [String] { buffer.plainText().split(separator: "\n").map(String.init) }

    /// The cells between the left frame and the right one of the first row holding `marker`.
    static func row(_ buffer: ScreenBuffer, containing marker: String) -> String {
        lines(buffer).first { $0.contains(marker) } ?? ""
    }

    // MARK: 1. Who paused the queue

    /// lead-migration paused 12 minutes ago by a login role whose name carries an escape sequence.
    static func pausedQueueState(by who: String? = "ana\u{1b}[2J\u{202e}") -> DashboardState {
        var state = F.state(.queue)
        state.selectedQueue = "lead-migration"
        let index = state.snapshot!.queues.firstIndex { $0.name == "lead-migration" }!
        state.snapshot!.queues[index].pausedBy = who
        state.snapshot!.queues[index].pausedAt = who == nil ? nil : F.ago(12 * 60 + 5)
        state.queueTenants = nil
        return state
    }

    @Test func aPausedQueueSaysWhoPausedItAndWhenAndEscapesTheName() throws {
        for (width, height, ascii) in [(80, 24, false), (120, 40, false), (80, 24, true), (70, 20, false)] {
            let buffer = Self.draw(Self.pausedQueueState(), width, height, ascii: ascii)
            let text = buffer.plainText()
            // SafeText's visible escapes, as `queuetop status` prints the same name.
            #expect(text.contains(#"paused by ana\x1b[2J\u202e 12m ago"#), "\(width)x\(height): \(text)")
            #expect(!text.contains("\u{1b}") && !text.contains("\u{202e}"), "an escape reached the terminal: \(text)")
            // Dim, like the paused row on the overview: a decision, not an alarm.
            let y = try #require((0..<buffer.height).first { buffer.line($0).contains("paused by") })
            let x = try #require(buffer.line(y).range(of: "paused by").map { buffer.line(y).distance(from: buffer.line(y).startIndex, to: $0.lowerBound) })
            #expect(buffer[x, y].style.foreground == .muted)
        }
        try assertScreen(Self.draw(Self.pausedQueueState()), named: "queue-paused-80x24")
        try assertScreen(Self.draw(Self.pausedQueueState(), ascii: true), named: "queue-paused-ascii-80x24")
        try assertScreen(Self.draw(Self.pausedQueueState(), 120, 40), named: "queue-paused-120x40")
        // Paused before anyone recorded who: "paused" alone, no "by" or "ago" made up.
        let unknown = Self.draw(Self.pausedQueueState(by: nil)).plainText()
        #expect(unknown.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "paused" }, "\(unknown)")
        #expect(!unknown.contains("paused by"), "\(unknown)")
    }

    @Test func thePauseLineSitsAboveTheAlertsWithoutHidingThem() {
        var state = Self.pausedQueueState(by: "ana")
        let index = state.snapshot!.queues.firstIndex { $0.name == "lead-migration" }!
        state.snapshot!.queues[index].alerts = [Alert(queue: "lead-migration", kind: .dlqAboveThreshold,
                                                      message: "lead-migration: 120 jobs in the DLQ (threshold 100)", value: 120, threshold: 100)]
        for (width, height) in [(80, 24), (120, 40), (70, 20)] {
            let lines = Self.lines(Self.draw(state, width, height))
            let pause = lines.firstIndex { $0.contains("paused by ana 12m ago") }
            let alert = lines.firstIndex { $0.contains("120 jobs in the DLQ") }
            #expect(pause != nil && alert != nil && pause! < alert!, "\(width)x\(height): \(lines.joined(separator: "\n"))")
        }
    }

    // MARK: 4. The queue screen's failed line at 80x24

    @Test func failedAndDeadLetteredFitAt80Columns() throws {
        var state = F.state(.queue)
        let index = state.snapshot!.queues.firstIndex { $0.name == "emails" }!
        state.snapshot!.queues[index].lastHour = PeriodTotals(completed: 48_120, failed: 12_345, deadLettered: 1_234)
        state.snapshot!.queues[index].counts.deadLetter = 41_200
        for ascii in [false, true] {
            let buffer = Self.draw(state, ascii: ascii)
            let failed = Self.row(buffer, containing: "failed 1h")
            #expect(failed.contains("failed 1h   12k attempts") || failed.contains("failed 1h   12.3k attempts"), "\(failed)")
            let dlq = Self.row(buffer, containing: "dead_letter")
            let dot = ascii ? " - " : " · "
            #expect(dlq.contains("dead_letter ") && dlq.contains("\(dot)+1.2k in 1h"), "\(dlq)")
            // Nothing in the figures box is cut (a cut value ends in an ellipsis before the frame).
            let box = Self.lines(buffer).dropFirst(2).prefix(11).map { String($0.prefix(40)) }
            #expect(!box.contains { $0.hasSuffix(ascii ? "~ |" : "… │") }, "\(box.joined(separator: "\n"))")
        }
        try assertScreen(Self.draw(state), named: "queue-big-figures-80x24")
    }

    // MARK: The walk: the overview chart's legend at 80 columns

    @Test func theHourlyChartKeepsItsLegendAt80Columns() {
        var state = F.state(.overview)
        state.cursor[.overview] = 0
        let ascii = Self.draw(state, ascii: true).plainText()
        for (text, legend) in [(Self.draw(state).plainText(), "▼ deploy ! alert"), (ascii, "v deploy ! alert")] {
            let title = Self.lines(Self.draw(state)).first { $0.contains("done/h") || $0.contains("completed/hour") } ?? ""
            #expect(text.contains(legend), "\(title)")
        }
        // 120 columns keep the long title.
        #expect(Self.draw(state, 120, 40).plainText().contains("completed/hour, 24h UTC"))
    }

    // MARK: The walk: the way back in the footer

    @Test func leadsAndDLQGroupsNameTheirWayBack() {
        // Leads said only "? help  / filter" at 80 columns.
        let leads = Self.draw(F.state(.leads))
        #expect(leads.line(23).contains("Esc back"), "\(leads.line(23))")
        let dlq = Self.draw(F.state(.dlq), 120, 40)
        #expect(dlq.line(39).contains("/ filter  Esc back"), "\(dlq.line(39))")
    }

    // MARK: 2. Audit at 80 columns

    @Test(arguments: [false, true])
    func theAuditFilterIsReadableAt80Columns(ascii: Bool) throws {
        let buffer = Self.draw(AuditColumnsTests.demoState(), ascii: ascii)
        // The filter column holds the start of the run id, the queue and the fingerprint.
        let lead = Self.row(buffer, containing: "lead_migration.queue")
        #expect(lead.contains(#"{"run_id": "01a23792-72f7"#), "\(lead)")
        let reopen = Self.row(buffer, containing: "error_group.reopen")
        #expect(reopen.contains(#"{"queue": "emails", "fingerpri"#), "\(reopen)")
        // The actor is still named (cut, and whole in the detail pane), the age kept.
        #expect(lead.contains("postgres") && lead.contains("15s"), "\(lead)")
        #expect(buffer.plainText().contains("who    postgres (claims root@vm)"))
        // The clock moved to the detail pane.
        #expect(buffer.plainText().contains("03:29:45 UTC, 15s ago"))
        // At 120 columns nothing changes: the clock column stays.
        #expect(Self.draw(AuditColumnsTests.demoState(), 120, 40).line(2).contains("TIME UTC"))
    }

    // MARK: 3. Timeline at 80 columns

    @Test(arguments: [false, true])
    func theTimelineWhatColumnIsReadableAt80Columns(ascii: Bool) throws {
        let buffer = Self.draw(F.state(.timeline), ascii: ascii)
        let dot = ascii ? " - " : " · "
        // 40+ cells of WHAT: a bulk cancel says how many, by whom and which jobs.
        let bulk = Self.row(buffer, containing: "jobs.cancel")
        #expect(bulk.contains("cancelled 1,200 jobs\(dot)by ana\(dot)matching"), "\(bulk)")
        let alert = Self.row(buffer, containing: "alert fired")
        #expect(alert.contains("emails: 412 jobs in the DLQ (threshold"), "\(alert)")
        // Each row keeps its age; the detail box has the clock.
        #expect(bulk.contains("28m"), "\(bulk)")
        #expect(buffer.plainText().contains("03:05:00 UTC, 25m ago"))
        #expect(Self.draw(F.state(.timeline), 120, 40).line(2).contains("TIME UTC"))
    }
}

import Foundation
import Testing
import TerminalUI
@testable import QueueStore
import Postgres

/// What an operator met on the 3 a.m. walk through the dashboard (walk2): tabs that were only
/// numbers at 80 columns, cancels shown as raw JSON on the Timeline, a queue paused on purpose
/// drawn as an alarm, Schedules headers cut at 80 columns, and an all view whose footer counted
/// one context. Each test fails on the screen as it was.
@Suite struct OnCallWalkScreenTests {
    typealias F = DashboardFixture

    static func draw(_ state: DashboardState, _ width: Int = 80, _ height: Int = 24, ascii: Bool = false) -> ScreenBuffer {
        DashboardScreenTests.draw(state, width, height, ascii: ascii)
    }

    // MARK: 1. Tabs

    @Test(arguments: Screen.allCases)
    func everyTabKeepsANameAt80Columns(_ screen: Screen) {
        let buffer = Self.draw(F.state(screen))
        let tabs = buffer.line(0)
        // Each key is followed by a word: "1 Over", "7 Sched"; the current tab by its full name.
        for s in Screen.allCases {
            let name = s == screen ? s.title : s.shortTitle
            #expect(tabs.contains(" \(s.key) \(name)"), "\(screen): \(tabs)")
        }
        // The current tab is highlighted (reverse video without colours) and nothing else is.
        let x = (tabs.range(of: " \(screen.key) \(screen.title)").map { tabs.distance(from: tabs.startIndex, to: $0.lowerBound) } ?? 0) + 1
        #expect(buffer[x, 0].style.background == .selected, "\(screen): \(tabs)")
        let other = screen == .overview ? Screen.queue : Screen.overview
        let otherX = (tabs.range(of: " \(other.key) \(other.shortTitle)").map { tabs.distance(from: tabs.startIndex, to: $0.lowerBound) } ?? 0) + 1
        #expect(buffer[otherX, 0].style.background != .selected)
    }

    @Test func tabsKeepFullNamesAt120AndAContextLabelCostsTheLastName() {
        let wide = Self.draw(F.state(.jobs), 120, 40).line(0)
        #expect(wide.hasPrefix(" 1 Overview  2 Queue  3 DLQ  4 Leads  5 Workers  6 Audit  7 Schedules  8 Log  9 Jobs  0 Timeline"), "\(wide)")
        // With the context on the right, 80 columns hold nine short names (the current tab short
        // too, still highlighted); the last tab shows its key.
        var state = F.state(.overview)
        state.contexts.entries = [ContextEntry(name: "eu-1", labels: "")]
        state.contexts.current = "eu-1"
        let narrow = Self.draw(state).line(0)
        #expect(narrow.hasPrefix(" 1 Over  2 Queue 3 DLQ 4 Leads 5 Wkrs 6 Audit 7 Sched 8 Log 9 Jobs 0 ") && narrow.hasSuffix("ctx eu-1"),
                "[\(narrow)]")
        #expect(!narrow.contains("  8  "), "\(narrow)")
    }

    // MARK: 2. Timeline cancels

    @Test func timelineWordsCancelsAndEscapesWhatTheyCarry() throws {
        var state = F.state(.timeline)
        // Rows 3, 4, 5: the bulk cancel, the running job's (an escape in its worker id), the pending job's.
        let expected = [
            "cancelled 1,200 jobs · by ana · matching queue:emails state:pending · stopped early · reason: operator cancel",
            "cancelled running job 00000008 · by bruno · worker app-1:42?[2J stops it · reason: operator cancel",
            "cancelled job 00000007 (pending) · by bruno · reason: operator cancel",
        ]
        for (row, words) in zip(3..., expected) {
            state.cursor[.timeline] = row
            for (width, height) in [(80, 24), (120, 40)] {
                let text = Self.draw(state, width, height).plainText()
                #expect(!text.contains(#"{"ids""#) && !text.contains(#"{"where""#), "raw JSON on the timeline: \(text)")
                #expect(!text.contains("\u{1b}"), "an escape sequence reached the terminal: \(text)")
                // The WHAT cell starts with what was cancelled, even where the row is cut.
                #expect(text.contains("│▸") && text.split(separator: "\n").contains { $0.contains("▸") && $0.contains("cancelled ") },
                        "\(text)")
            }
            // The detail box has the whole sentence (wrapped onto a second line when long).
            let detail = Self.draw(state, 120, 40).plainText().split(separator: "\n")
                .filter { $0.contains("│ detail") || $0.contains("│        ") }
                .map { $0.dropFirst(9).trimmingCharacters(in: CharacterSet(charactersIn: " │")) }.joined(separator: " ")
            #expect(detail.split(separator: " ").joined(separator: " ") == words, "\(detail)")
        }
        state.cursor[.timeline] = 4
        try assertScreen(Self.draw(state, 120, 40), named: "timeline-cancels-120x40")
        try assertScreen(Self.draw(state, ascii: true), named: "timeline-cancels-ascii-80x24")
    }

    // MARK: 4. A paused queue

    @Test func aPausedQueueIsDimNotAnAlarm() throws {
        var state = F.state(.overview)
        // The paused queue has a backlog that grows (nothing takes from it): that is the pause.
        let index = try #require(state.snapshot?.queues.firstIndex { $0.paused })
        state.snapshot?.queues[index].counts.pending = 4_000
        state.snapshot?.queues[index].forecast = DrainForecast(state: "growing", backlog: 4_000, arrived: 600, departed: 0,
                                                               windowS: 300, netPerMin: 120, clearsInMinutes: nil)
        let buffer = Self.draw(state, 120, 40)
        let y = try #require((0..<buffer.height).first { buffer.line($0).contains("lead-migration") })
        let row = buffer.line(y)
        #expect(row.contains("paused") && !row.contains("growing"), "\(row)")
        for x in 0..<buffer.width where buffer[x, y].style.foreground == .warn || buffer[x, y].style.foreground == .error {
            Issue.record("alarm colour at column \(x) of the paused queue's row: \(row)")
        }
        let paused = try #require(row.range(of: "paused").map { row.distance(from: row.startIndex, to: $0.lowerBound) })
        #expect(buffer[paused, y].style.foreground == .muted)
        // Real alarms keep their colours: the emails DLQ over its threshold is still red.
        let emails = try #require((0..<buffer.height).first { buffer.line($0).contains("emails ") && buffer.line($0).contains("412") })
        #expect((0..<buffer.width).contains { buffer[$0, emails].style.foreground == .error })
    }

    // MARK: 5. Schedules at 80 columns

    @Test func scheduleHeadersFitAt80WithTheDemosLongNamesAndCrons() throws {
        var state = F.state(.schedules)
        state.schedules = [
            Schedule(name: "aggregate-queue-metrics", cron: "*/5 * * * * *", queue: "maintenance", jobType: "aggregate_queue_metrics",
                     payload: JSONText("{}"), priority: 0, enabled: true, nextRunAt: F.ago(-1), lastRunAt: F.ago(4),
                     lastJobID: F.id(1), lastOutcome: "enqueued", missedTicks: 3),
            Schedule(name: "cleanup-stuck-jobs", cron: "*/15 * * * * *", queue: "maintenance", jobType: "cleanup_stuck_jobs",
                     payload: JSONText("{}"), priority: 0, enabled: true, nextRunAt: F.ago(-1_920), lastRunAt: nil,
                     lastJobID: nil, lastOutcome: nil, missedTicks: 0),
        ]
        state.cursor[.schedules] = 0
        for ascii in [false, true] {
            let buffer = Self.draw(state, ascii: ascii)
            let header = buffer.line(2)
            for title in ["NAME", "CRON", "QUEUE", "ON", "NEXT", "LAST RUN", "OUTCOME"] {
                #expect(header.contains(title), "\(title) cut: \(header)")
            }
            #expect(!header.contains(ascii ? "~" : "…"), "\(header)")
            #expect(buffer.line(3).contains("*/5 * * * * *") && buffer.line(3).contains("maintenance"), "\(buffer.line(3))")
        }
        try assertScreen(Self.draw(state), named: "schedules-demo-80x24")
    }

    // MARK: 6. The all view's footer

    @Test func theAllViewsFooterSumsTheContextsItShows() throws {
        var state = ContextsScreenTests.state
        state.contexts.allView = true
        // eu-1 and us-1 answer: 41 jobs in flight in eu-1's snapshot, 40 in us-1's first two queues.
        let fresh = state.freshContextSummaries
        let expected = fresh.flatMap(\.summary.queues).reduce(Int64(0)) { $0 + $1.counts.processing }
        #expect(fresh.count == 2 && expected != state.inFlightCount)
        for (width, height) in [(80, 24), (120, 40)] {
            let text = Self.draw(state, width, height).plainText()
            #expect(text.contains("\(expected) in flight in 2 of 4 contexts"), "\(text)")
            #expect(text.contains("3 workers in eu-1"), "\(text)")
        }
        // Back on one context, the footer is that context's again.
        state.contexts.allView = false
        let one = Self.draw(state).plainText()
        #expect(one.contains("3 workers · \(state.inFlightCount) in flight"), "\(one)")
    }
}

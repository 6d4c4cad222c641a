import Foundation
import Testing
@testable import TerminalUI
import QueueStore

/// The derived figures and text helpers the screens rely on, checked on their own.
@Suite struct ViewLogicTests {
    typealias F = DashboardFixture

    @Test func footerFiguresComeFromTheSnapshot() {
        let state = F.state()
        #expect(state.liveWorkerCount == 3, "running and draining count; lost does not")
        #expect(state.inFlightCount == 41)
        #expect(state.deadLetterTotal == 448)
        #expect(state.secondsSinceRefresh == 3)
        #expect(DashboardState(now: F.now).secondsSinceRefresh == nil)
    }

    @Test func retryCountdownRoundsUpAndStalenessNeedsData() {
        var state = F.state()
        #expect(state.secondsUntilRetry == nil && !state.isStale)
        state.connection = .disconnected(reason: "refused", retryAt: F.now.addingTimeInterval(0.2))
        #expect(state.secondsUntilRetry == 1, "0.2 s left still reads 1s, not 'now'")
        #expect(state.isStale)
        state.now = F.now.addingTimeInterval(3)
        #expect(state.secondsUntilRetry == 0)
        var empty = DashboardState(now: F.now)
        empty.connection = .disconnected(reason: "refused", retryAt: F.now)
        #expect(!empty.isStale, "nothing on screen, so nothing stale")
    }

    @Test func alertsWorstFirstKeepingTheirOrderOtherwise() {
        let kinds = F.state().alertsBySeverity.map(\.kind)
        #expect(kinds == [.circuitOpen, .workerSilent, .dlqAboveThreshold, .oldestPendingTooOld])
    }

    @Test func prettyJSONKeepsOrderNumbersAndStrings() {
        let lines = PrettyJSON.lines(#"{"b": 1.50, "a": {"s": "x, {y}: \"z\"", "e": {}, "l": []}, "n": [1,2]}"#)
        #expect(lines == [
            "{",
            #"  "b": 1.50,"#,
            #"  "a": {"#,
            #"    "s": "x, {y}: \"z\"","#,
            #"    "e": {},"#,
            #"    "l": []"#,
            "  },",
            #"  "n": ["#,
            "    1,",
            "    2",
            "  ]",
            "}",
        ])
        #expect(PrettyJSON.lines("42") == ["42"])
        #expect(PrettyJSON.lines("") == [""])
        // Not JSON: shown anyway, never dropped.
        #expect(PrettyJSON.lines("oops {").joined().contains("oops"))
    }

    @Test func textHelpers() {
        #expect(ViewText.grouped(120_000) == "120,000")
        #expect(ViewText.grouped(999) == "999")
        #expect(ViewText.grouped(-1_234) == "-1,234")
        #expect(ViewText.span(900) == "15m" && ViewText.span(90) == "1m30s" && ViewText.span(7_200) == "2h")
        #expect(ViewText.percent(0.023) == "2.3%" && ViewText.percent(0.2) == "20%")
        #expect(ViewText.oneLine("a\nb\tc") == "a b c")
        #expect(ViewText.clock(F.ago(60), now: F.now) == "03:29:00")
        #expect(ViewText.clock(F.ago(86_400), now: F.now) == "11-21 03:30:00")
        let bar = ViewText.progress(0.5, width: 17, glyphs: .ascii)
        #expect(bar == "[#####.....]  50%" && bar.count == 17)
    }

    @Test func asciiFallbackKeepsColumnsForWideCharacters() {
        var buffer = ScreenBuffer(width: 12, height: 1, glyphs: .ascii)
        buffer.write("日本—ok…", at: Point(x: 0, y: 0))
        ASCIIFallback.apply(to: &buffer)
        #expect(buffer.line(0) == "????-ok.")
    }

    @Test func pauseHintFollowsTheFocusedQueue() {
        var state = F.state()
        #expect(KeyMap.footerHints(state).contains(KeyHint("p", "pause")))
        state.cursor[.overview] = 2  // lead-migration, paused
        #expect(KeyMap.footerHints(state).contains(KeyHint("p", "resume")))
        state.readOnly = true
        #expect(!KeyMap.footerHints(state).contains { $0.key == "p" })
    }
}

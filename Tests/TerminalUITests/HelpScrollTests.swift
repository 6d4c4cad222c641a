import Foundation
import Testing
@testable import TerminalUI

/// Help on the terminal the console is built for, 80x24 over SSH: the keys fill it, and the `:`
/// commands under them (`:ctx`, `:all`, `:dump`…) were cut with "more help on a taller
/// terminal" and no way to reach them (any key closed help). Found walking the demo; now the
/// moving keys scroll help and the last row says where you are.
@Suite struct HelpScrollTests {
    /// Draws like the runtime does: a frame, then its measured pane fed back to the reducer.
    static func frame(_ state: inout DashboardState, _ width: Int = 80, _ height: Int = 24) -> ScreenBuffer {
        var buffer = ScreenBuffer(width: width, height: height, glyphs: .select(ascii: false))
        let viewport = DashboardView.draw(state, into: &buffer)
        _ = reduce(&state, .detailViewportMeasured(viewport))
        return buffer
    }

    @Test func theCommandsAreOneKeyAwayAt80x24() throws {
        var state = DashboardFixture.state(.overview)
        _ = reduce(&state, .key(.character("?")))
        let first = Self.frame(&state).plainText()
        #expect(first.contains("more below: j or PgDn"), "\(first)")
        #expect(!first.contains(":dump FILE"))

        _ = reduce(&state, .key(.character("G")))
        let last = Self.frame(&state)
        try assertScreen(last, named: "help-overview-scrolled-80x24")
        let text = last.plainText()
        #expect(state.showHelp, "G scrolls help, it does not close it")
        #expect(text.contains(":all") && text.contains(":dump FILE") && text.contains(":ctx [NAME]"), "\(text)")
        #expect(text.contains("the end: k or PgUp goes back"))

        // k after G moves at once (the offset was clamped to the end), g goes back to the top.
        let end = state.helpScroll
        _ = reduce(&state, .key(.character("k")))
        #expect(state.helpScroll == end - 1)
        _ = reduce(&state, .key(.character("g")))
        _ = Self.frame(&state)
        #expect(state.helpScroll == 0)

        // Any other key closes it, and the next help starts at the top again.
        _ = reduce(&state, .key(.character("j")))
        _ = reduce(&state, .key(.escape))
        #expect(!state.showHelp && state.helpScroll == 0)
    }

    @Test func helpThatFitsDoesNotScroll() {
        var state = DashboardFixture.state(.overview)
        _ = reduce(&state, .key(.character("?")))
        let text = Self.frame(&state, 120, 40).plainText()
        #expect(text.contains("any key closes") && !text.contains("j k scroll"))
        _ = reduce(&state, .key(.character("j")))
        #expect(state.helpScroll == 0, "nothing to scroll: j moves nothing")
    }
}

/// A footer message longer than the row (walking the demo at 80x24: `:job 123`, `:ctx` without
/// a contexts file) lost what it says to do at the 80th column. It now takes both footer rows
/// for its few seconds.
@Suite struct LongFlashTests {
    @Test func aLongErrorUsesBothFooterRowsAndEndsWhole() throws {
        var state = DashboardFixture.state(.overview)
        let message = "'123' is not a job id (a UUID such as 01a201e7-a38f-72ad-9bc7-bfa9eb24a81f, "
            + "or 4 or more of its hex digits, such as the short id bfa9eb24)"
        state.flash = Flash(message, kind: .error, at: DashboardFixture.now)
        var buffer = ScreenBuffer(width: 80, height: 24, glyphs: .select(ascii: false))
        DashboardView.draw(state, into: &buffer)
        try assertScreen(buffer, named: "footer-long-flash-80x24")
        let rows = buffer.plainText().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let footer = rows.suffix(3).joined(separator: " ")
        #expect(footer.contains("such as the short id bfa9eb24)"), "\(rows.suffix(3))")
        #expect(rows[rows.count - 3].hasPrefix("! '123' is not a job id") || rows[rows.count - 2].hasPrefix("! '123' is not a job id"))

        // A short one keeps its row, with the status above it.
        state.flash = Flash("requeued 412 jobs", kind: .success, at: DashboardFixture.now)
        var short = ScreenBuffer(width: 80, height: 24, glyphs: .select(ascii: false))
        DashboardView.draw(state, into: &short)
        let shortRows = short.plainText().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(shortRows.suffix(3).joined(separator: "\n").contains("in flight"))
    }
}

/// `c` on a lead migration that has ended: walking the demo, the completed runs listed first
/// offered "c cancel" and the key then did nothing at all.
@Suite struct EndedMigrationCancelTests {
    @Test func cOnAnEndedMigrationSaysWhyAndTheHintIsGone() throws {
        var state = DashboardFixture.state(.leads)
        // The running one first: the hint is there and c asks.
        #expect(state.focusedMigration?.status == .running)
        #expect(KeyMap.footerHints(state).contains { $0.key == "c" })
        // The completed one: no hint, and c says why it does nothing.
        _ = reduce(&state, .key(.character("j")))
        #expect(state.focusedMigration?.runName == "nov-cleanup")
        #expect(!KeyMap.footerHints(state).contains { $0.key == "c" })
        let effects = reduce(&state, .key(.character("c")))
        #expect(effects.isEmpty && state.confirmation == nil)
        #expect(state.flash?.text == "nov-cleanup already ended (completed): nothing to cancel", "\(String(describing: state.flash))")
    }
}

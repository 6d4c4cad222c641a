import Foundation
import Testing
import TerminalUI

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

import Testing
import TerminalUI

@Suite struct ScreenCompositionTests {
    @Test(arguments: [(80, 24), (120, 40)])
    func overviewComposes(width: Int, height: Int) throws {
        try assertScreen(MockOverviewScreen.render(width: width, height: height), named: "overview-mock-\(width)x\(height)")
    }

    @Test func overviewInASCII() throws {
        try assertScreen(MockOverviewScreen.render(width: 80, height: 24, ascii: true), named: "overview-mock-80x24-ascii")
    }

    @Test func compactLayoutBelow80x24() throws {
        try assertScreen(MockOverviewScreen.render(width: 60, height: 16), named: "overview-mock-compact-60x16")
        try assertScreen(MockOverviewScreen.render(width: 20, height: 5), named: "overview-mock-20x5")
    }

    @Test func tooSmallScreen() throws {
        try assertScreen(MockOverviewScreen.render(width: 19, height: 4), named: "too-small-19x4")
        #expect(MockOverviewScreen.render(width: 40, height: 3).plainText().contains("Terminal too small"))
    }

    /// Every size from 0x0 up must render without trapping; a crash at 3 a.m. loses the operator
    /// their only view.
    @Test func everySmallSizeRenders() {
        for width in 0...24 {
            for height in 0...8 {
                let buffer = MockOverviewScreen.render(width: width, height: height)
                #expect(buffer.width == width && buffer.height == height)
            }
        }
        #expect(MockOverviewScreen.render(width: 1, height: 1).plainText() == "…")
        #expect(MockOverviewScreen.render(width: 0, height: 0).plainText() == "")
    }

    /// The premise of "few bytes per refresh": redrawing the same state changes no cell, and a
    /// ticking clock changes only its own cells.
    @Test func steadyStateFramesDifferOnlyWhereTheDataDoes() {
        let first = MockOverviewScreen.render(width: 80, height: 24)
        let again = MockOverviewScreen.render(width: 80, height: 24)
        #expect(again.diff(from: first).isEmpty)
        var ticked = again
        StatusLine(hints: MockOverviewScreen.hints, status: MockOverviewScreen.status(ago: 2, glyphs: ticked.glyphs))
            .draw(into: &ticked, in: ticked.bounds.row(23))
        #expect(ticked.diff(from: first).count == 1)
    }
}

import Foundation
import Testing
import TerminalUI
import QueueStore

/// Every screen drawn by `DashboardView` from the fixed fixture state, compared with text goldens.
/// Record with QUEUETOP_RECORD_SNAPSHOTS=1, then read every golden before committing it.
@Suite struct DashboardScreenTests {
    static func draw(_ state: DashboardState, _ width: Int, _ height: Int, ascii: Bool = false) -> ScreenBuffer {
        var buffer = ScreenBuffer(width: width, height: height, glyphs: .select(ascii: ascii))
        DashboardView.draw(state, into: &buffer)
        return buffer
    }

    static let sizes = [(80, 24), (120, 40)]

    /// The state of each screen as the operator reaches it, by golden name.
    static let screens: [(String, DashboardState)] = [
        ("overview", DashboardFixture.state(.overview)),
        ("queue", DashboardFixture.state(.queue)),
        ("dlq-groups", DashboardFixture.state(.dlq)),
        ("dlq-jobs", DashboardFixture.dlqJobsState()),
        ("dlq-job", DashboardFixture.jobDetailState()),
        ("leads", DashboardFixture.state(.leads)),
        ("workers", DashboardFixture.state(.workers)),
        ("audit", DashboardFixture.state(.audit)),
    ]

    @Test(arguments: screens.indices)
    func everyScreenAtBothSizes(index: Int) throws {
        let (name, state) = Self.screens[index]
        for (w, h) in Self.sizes {
            try assertScreen(Self.draw(state, w, h), named: "\(name)-\(w)x\(h)")
        }
    }

    @Test(arguments: screens.indices)
    func everyScreenCompactAndASCII(index: Int) throws {
        let (name, state) = Self.screens[index]
        try assertScreen(Self.draw(state, 70, 20), named: "\(name)-compact-70x20")
        let ascii = Self.draw(state, 80, 24, ascii: true)
        try assertScreen(ascii, named: "\(name)-ascii-80x24")
        // LANG=C terminals show any other byte as garbage, and it can shift the rest of the row.
        let text = ascii.plainText()
        #expect(text.utf8.allSatisfy { $0 < 0x80 }, "non-ASCII output in \(name): \(text.unicodeScalars.filter { !$0.isASCII })")
    }

    /// No hidden clock or randomness: the same state draws the same cells, styles included.
    @Test(arguments: screens.indices)
    func drawingIsAPureFunctionOfState(index: Int) {
        let state = Self.screens[index].1
        for (w, h) in Self.sizes + [(70, 20), (20, 5)] {
            #expect(Self.draw(state, w, h) == Self.draw(state, w, h))
        }
    }
}

import Foundation
import Testing
import TerminalUI
import QueueStore

/// At 80 columns the overview gives queue names the width they need, up to 20 columns, by
/// leaving out P95 and then P50 (OverviewScreen.dropOrder); short names keep every column.
/// The goldens (overview-80x24, overview-ascii-80x24) show the fixture's names in full.
@Suite struct OverviewQueueNameTests {
    static func overview(names: [String], width: Int = 80, height: Int = 24) -> String {
        var state = DashboardFixture.state(.overview, width: width)
        for (i, name) in names.enumerated() { state.snapshot?.queues[i].name = name }
        return DashboardScreenTests.draw(state, width, height).plainText()
    }

    static func header(_ screen: String) -> String {
        screen.split(separator: "\n").first { $0.contains("QUEUE") && $0.contains("PEND") }.map(String.init) ?? ""
    }

    @Test func shortNamesKeepEveryColumn() {
        let screen = Self.overview(names: ["a", "b", "c", "d", "e"])
        for column in ["P50", "P95", "P99", "DRAIN", "DONE", "TREND"] {
            #expect(Self.header(screen).contains(column), "\(column): \(Self.header(screen))")
        }
    }

    @Test func longNamesGetTwentyColumnsAndTheLeastImportantFiguresGo() {
        let long = "tenant-billing-reconciliation-nightly"  // 37 characters
        let screen = Self.overview(names: [long, "b", "c", "d", "e"])
        // At least 20 columns of the name (the table gives its spare column to the name too),
        // cut with an ellipsis.
        let row = screen.split(separator: "\n").first { $0.contains("tenant-billing") }.map(String.init) ?? ""
        #expect(row.contains(String(long.prefix(19))) && row.contains("…") && !row.contains(String(long.prefix(24))), "\(row)")
        let header = Self.header(screen)
        #expect(!header.contains("P50") && !header.contains("P95"), "\(header)")
        for column in ["PEND", "PROC", "DLQ", "OLDEST", "P99"] {
            #expect(header.contains(column), "\(column): \(header)")
        }
    }

    @Test func at120ColumnsNothingIsLeftOut() {
        let screen = Self.overview(names: ["tenant-billing-reconciliation", "b", "c", "d", "e"], width: 120, height: 40)
        #expect(screen.contains("tenant-billing-reconciliation"), "\(screen)")
        for column in ["P50", "P95", "P99", "DRAIN", "DONE", "TREND"] {
            #expect(Self.header(screen).contains(column), "\(column)")
        }
    }
}

import Testing
import TerminalUI

@Suite struct TableTests {
    static let columns = [
        TableColumn("QUEUE", minWidth: 6, flexible: true),
        TableColumn("PEND", alignment: .right),
        TableColumn("DLQ", alignment: .right),
    ]

    static func rows(_ count: Int) -> [TableRow] {
        (0..<count).map { TableRow(["queue-\($0)", "\($0 * 10)", "\($0)"]) }
    }

    @Test func scrollOffsetMovesOnlyAsFarAsNeeded() {
        // Selection below the window: scroll so it is the last visible row.
        #expect(Table.scrollOffset(previous: 0, selected: 7, visibleRows: 5, rowCount: 20) == 3)
        // Selection inside the window: keep the offset (no jumping).
        #expect(Table.scrollOffset(previous: 3, selected: 5, visibleRows: 5, rowCount: 20) == 3)
        // Selection above: it becomes the first row.
        #expect(Table.scrollOffset(previous: 3, selected: 1, visibleRows: 5, rowCount: 20) == 1)
        // After rows disappear, the last page stays full.
        #expect(Table.scrollOffset(previous: 15, selected: 2, visibleRows: 5, rowCount: 4) == 0)
        #expect(Table.scrollOffset(previous: 15, selected: nil, visibleRows: 5, rowCount: 8) == 3)
        #expect(Table.scrollOffset(previous: 4, selected: 4, visibleRows: 0, rowCount: 8) == 0)
    }

    @Test func flexibleColumnAbsorbsTheRest() {
        let table = Table(columns: Self.columns, rows: Self.rows(3))
        // 30 columns: spacing 2, PEND 4, DLQ 3, QUEUE the remaining 21.
        #expect(table.columnWidths(available: 30) == [21, 4, 3])
    }

    @Test func columnsAreDroppedFromTheRightWhenNothingFits() {
        let table = Table(columns: Self.columns, rows: Self.rows(3))
        #expect(table.columnWidths(available: 12) == [7, 4, 0])
        #expect(table.columnWidths(available: 3) == [3, 0, 0])
    }

    @Test func maxWidthCapsANonFlexibleColumn() {
        let columns = [TableColumn("ERROR", maxWidth: 8), TableColumn("N", alignment: .right)]
        let table = Table(columns: columns, rows: [TableRow(["a very long error message", "3"])])
        #expect(table.columnWidths(available: 40) == [8, 1])
    }

    @Test func selectionStaysVisibleAndIsHighlighted() throws {
        var table = Table(columns: Self.columns, rows: Self.rows(30), selectedIndex: 12, markedRows: [10, 12],
                          scrollOffset: 0, isMarkable: true)
        let buffer = render(30, 6) { table.draw(into: &$0, in: $0.bounds) }
        try assertScreen(buffer, named: "table-scrolled-selection")
        // Header + 5 rows: offset 8, so the selected row 12 is the last line.
        #expect(buffer.line(5).hasPrefix("▸•queue-12"))
        #expect(buffer[10, 5].style.background == .selected)
        #expect(buffer[10, 4].style.background == .normal)
        table.selectedIndex = 0
        let top = render(30, 6) { table.draw(into: &$0, in: $0.bounds) }
        #expect(top.line(1).hasPrefix("▸ queue-0"))
    }

    @Test func asciiTableWithMarks() throws {
        let table = Table(columns: Self.columns, rows: Self.rows(4), selectedIndex: 1, markedRows: [0, 1, 3],
                          isMarkable: true)
        try assertScreen(render(30, 5, ascii: true) { table.draw(into: &$0, in: $0.bounds) }, named: "table-ascii-marks")
    }

    @Test func emptyStateText() {
        let table = Table(columns: Self.columns, rows: [], emptyText: "No dead-letter jobs")
        let buffer = render(30, 4) { table.draw(into: &$0, in: $0.bounds) }
        #expect(buffer.line(1) == "     No dead-letter jobs")
        #expect(table.positionLabel == "0/0")
    }

    @Test func truncatedCellsAndWideCharacters() throws {
        let columns = [TableColumn("QUEUE", minWidth: 6, flexible: true), TableColumn("LAST ERROR", minWidth: 10, maxWidth: 14)]
        let rows = [
            TableRow(["emails", "SMTP 421 try again later"]),
            TableRow(["日本語キュー", "タイムアウトしました"]),
            TableRow(["store-sync", "ok"]),
        ]
        let table = Table(columns: columns, rows: rows, selectedIndex: 1)
        try assertScreen(render(24, 4) { table.draw(into: &$0, in: $0.bounds) }, named: "table-truncation-wide")
    }

    @Test func rowAndCellStylesSurviveSelection() {
        let rows = [TableRow(["emails", "1", "412"], cellStyles: [2: .error]), TableRow(["paused", "0", "0"], style: .muted)]
        let table = Table(columns: Self.columns, rows: rows, selectedIndex: 0)
        let buffer = render(30, 3) { table.draw(into: &$0, in: $0.bounds) }
        let dlqCell = buffer[29, 1]
        #expect(dlqCell.character == "2")
        #expect(dlqCell.style.foreground == .error)
        #expect(dlqCell.style.background == .selected)
        #expect(buffer[3, 2].style.foreground == .muted)
    }
}

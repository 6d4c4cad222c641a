/// A column of a `Table`.
public struct TableColumn: Sendable, Hashable {
    public var title: String
    public var alignment: Alignment
    public var minWidth: Int
    public var maxWidth: Int?
    /// Takes whatever width is left (names, error messages). Normally one column per table.
    public var isFlexible: Bool

    public init(_ title: String, alignment: Alignment = .left, minWidth: Int? = nil,
                maxWidth: Int? = nil, flexible: Bool = false) {
        self.title = title
        self.alignment = alignment
        self.minWidth = max(0, minWidth ?? min(DisplayWidth.of(title), 4))
        self.maxWidth = maxWidth
        self.isFlexible = flexible
    }
}

/// A row of a `Table`: cell texts, with optional per-cell styles (a red DLQ count).
public struct TableRow: Sendable, Hashable {
    public var cells: [String]
    public var style: Style
    public var cellStyles: [Int: Style]

    public init(_ cells: [String], style: Style = .normal, cellStyles: [Int: Style] = [:]) {
        self.cells = cells
        self.style = style
        self.cellStyles = cellStyles
    }
}

/// A scrolling list with a header, a cursor row and marked rows.
///
/// Stateless: the caller keeps `selectedIndex` and `scrollOffset` in its own state and feeds
/// back `Table.scrollOffset(...)` so the view is a pure function of that state.
public struct Table: Sendable {
    public var columns: [TableColumn]
    public var rows: [TableRow]
    public var selectedIndex: Int?
    public var markedRows: Set<Int>
    public var scrollOffset: Int
    /// Shown instead of rows when there are none ("No dead-letter jobs").
    public var emptyText: String
    /// Reserve a gutter column for marks (lists that support bulk actions).
    public var isMarkable: Bool
    public var showsHeader: Bool
    public var columnSpacing: Int

    public init(columns: [TableColumn], rows: [TableRow], selectedIndex: Int? = nil,
                markedRows: Set<Int> = [], scrollOffset: Int = 0, emptyText: String = "Nothing to show",
                isMarkable: Bool = false, showsHeader: Bool = true, columnSpacing: Int = 1) {
        self.columns = columns
        self.rows = rows
        self.selectedIndex = selectedIndex
        self.markedRows = markedRows
        self.scrollOffset = scrollOffset
        self.emptyText = emptyText
        self.isMarkable = isMarkable
        self.showsHeader = showsHeader
        self.columnSpacing = columnSpacing
    }

    /// Rows of data that fit in `rect` (its height minus the header).
    public func visibleRowCount(in rect: Rect) -> Int { max(0, rect.height - (showsHeader ? 1 : 0)) }

    /// The first row to show: `previous` if that keeps `selected` on screen, otherwise the
    /// smallest move that does (like a pager, no re-centring jumps), clamped so the last page
    /// is full.
    public static func scrollOffset(previous: Int, selected: Int?, visibleRows: Int, rowCount: Int) -> Int {
        guard visibleRows > 0, rowCount > 0 else { return 0 }
        var offset = min(max(0, previous), max(0, rowCount - visibleRows))
        if let selected {
            let s = min(max(0, selected), rowCount - 1)
            if s < offset { offset = s }
            if s >= offset + visibleRows { offset = s - visibleRows + 1 }
        }
        return offset
    }

    /// "12/340": cursor position for a title or footer.
    public var positionLabel: String {
        guard !rows.isEmpty else { return "0/0" }
        return "\((selectedIndex ?? 0) + 1)/\(rows.count)"
    }

    var gutterWidth: Int { 1 + (isMarkable ? 1 : 0) }

    /// Widths per column for `available` columns. Every column first gets its minimum, then
    /// fixed columns grow to their content, then the flexible column takes the rest. When
    /// even the minimums do not fit, columns are dropped from the right (width 0): a compact
    /// terminal loses the least important figures, never the names.
    public func columnWidths(available: Int) -> [Int] {
        let natural = columns.indices.map { i -> Int in
            let content = rows.reduce(DisplayWidth.of(columns[i].title)) { widest, row in
                i < row.cells.count ? max(widest, DisplayWidth.of(row.cells[i])) : widest
            }
            return max(columns[i].minWidth, min(content, columns[i].maxWidth ?? Int.max))
        }
        var visible = columns.count
        func spacing(_ n: Int) -> Int { max(0, n - 1) * columnSpacing }
        while visible > 1, columns.prefix(visible).map(\.minWidth).reduce(0, +) + spacing(visible) > available {
            visible -= 1
        }
        var widths = Array(repeating: 0, count: columns.count)
        guard visible > 0 else { return widths }
        var budget = available - spacing(visible)
        for i in 0..<visible {
            widths[i] = min(columns[i].minWidth, max(0, budget))
            budget -= widths[i]
        }
        for i in 0..<visible where !columns[i].isFlexible && budget > 0 {
            let extra = min(natural[i] - widths[i], budget)
            widths[i] += max(0, extra)
            budget -= max(0, extra)
        }
        if let flex = (0..<visible).first(where: { columns[$0].isFlexible }) {
            widths[flex] += max(0, budget)
        }
        return widths
    }

    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let contentX = rect.x + gutterWidth
        let widths = columnWidths(available: rect.width - gutterWidth)
        var y = rect.y
        if showsHeader {
            buffer.fill(rect.row(0), style: .header)
            drawCells(columns.map(\.title), styles: [:], base: .header, widths: widths,
                      x: contentX, y: y, into: &buffer)
            y += 1
        }
        let visibleRows = visibleRowCount(in: rect)
        guard !rows.isEmpty else {
            if visibleRows > 0 {
                buffer.write(emptyText, in: Rect(x: rect.x, y: y, width: rect.width, height: 1),
                             alignment: .center, style: .muted)
            }
            return
        }
        let offset = Self.scrollOffset(previous: scrollOffset, selected: selectedIndex,
                                       visibleRows: visibleRows, rowCount: rows.count)
        let glyphs = buffer.glyphs
        for index in offset..<min(rows.count, offset + visibleRows) {
            let row = rows[index]
            let isSelected = index == selectedIndex
            var base = row.style
            if isSelected { base.background = .selected }
            let line = Rect(x: rect.x, y: y, width: rect.width, height: 1)
            buffer.fill(line, style: base)
            if isSelected { buffer.put(glyphs.cursor, x: rect.x, y: y, style: base) }
            if isMarkable && markedRows.contains(index) {
                var markStyle = base
                markStyle.foreground = .marked
                markStyle.attributes.insert(.bold)
                buffer.put(glyphs.mark, x: rect.x + 1, y: y, style: markStyle)
            }
            var styles = row.cellStyles
            if isSelected { for key in styles.keys { styles[key]?.background = .selected } }
            drawCells(row.cells, styles: styles, base: base, widths: widths, x: contentX, y: y, into: &buffer)
            y += 1
        }
    }

    private func drawCells(_ texts: [String], styles: [Int: Style], base: Style, widths: [Int],
                           x startX: Int, y: Int, into buffer: inout ScreenBuffer) {
        var x = startX
        for (i, column) in columns.enumerated() where widths[i] > 0 {
            let text = i < texts.count ? texts[i] : ""
            buffer.write(text, in: Rect(x: x, y: y, width: widths[i], height: 1),
                         alignment: column.alignment, style: styles[i] ?? base)
            x += widths[i] + columnSpacing
        }
    }
}

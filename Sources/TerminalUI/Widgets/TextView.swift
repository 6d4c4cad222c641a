/// Scrollable pre-formatted text (a job's payload as pretty-printed JSON, an error trace).
/// Lines are not wrapped — indentation is the structure of JSON — and long ones end in an
/// ellipsis. The caller keeps `scrollOffset`; `clampedOffset` keeps it in range.
public struct TextView: Sendable {
    public var lines: [String]
    public var scrollOffset: Int
    public var style: Style

    public init(lines: [String], scrollOffset: Int = 0, style: Style = .normal) {
        self.lines = lines.map { TextWrap.expandTabs($0) }
        self.scrollOffset = scrollOffset
        self.style = style
    }

    public init(text: String, scrollOffset: Int = 0, style: Style = .normal) {
        self.init(lines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
                  scrollOffset: scrollOffset, style: style)
    }

    /// An offset that shows a full page when possible and never scrolls past the end.
    public static func clampedOffset(_ offset: Int, lineCount: Int, visibleRows: Int) -> Int {
        min(max(0, offset), max(0, lineCount - visibleRows))
    }

    /// "lines 11-30 of 120" for a title or footer.
    public func positionLabel(visibleRows: Int) -> String {
        guard !lines.isEmpty else { return "empty" }
        let first = Self.clampedOffset(scrollOffset, lineCount: lines.count, visibleRows: visibleRows)
        let last = min(lines.count, first + max(1, visibleRows))
        return "lines \(first + 1)-\(last) of \(lines.count)"
    }

    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let first = Self.clampedOffset(scrollOffset, lineCount: lines.count, visibleRows: rect.height)
        for row in 0..<rect.height {
            let index = first + row
            guard index < lines.count else { break }
            buffer.write(lines[index], in: rect.row(row), style: style)
        }
        // Arrows in the right edge say there is more, without costing a column of text.
        let g = buffer.glyphs
        if first > 0 { buffer.put(g.arrowUp, x: rect.maxX - 1, y: rect.y, style: .accent) }
        if first + rect.height < lines.count {
            buffer.put(g.arrowDown, x: rect.maxX - 1, y: rect.maxY - 1, style: .accent)
        }
    }
}

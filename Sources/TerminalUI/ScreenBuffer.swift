/// An in-memory screen: a grid of styled cells that views draw into and the terminal layer
/// copies out. Everything the dashboard shows goes through here, so it can be snapshot-tested
/// as text and diffed cell by cell to keep the bytes per refresh small.
///
/// Every drawing call clips to the buffer; coordinates outside it are ignored, never a crash.
public struct ScreenBuffer: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// The glyphs widgets should use (Unicode or ASCII), chosen once by the caller.
    public var glyphs: GlyphSet
    private var cells: [Cell]

    public init(width: Int, height: Int, glyphs: GlyphSet = .unicode) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.glyphs = glyphs
        self.cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// The cell at a position; a blank cell outside the buffer.
    public subscript(x: Int, y: Int) -> Cell {
        contains(x: x, y: y) ? cells[y * width + x] : .blank
    }

    // MARK: - Drawing

    /// Puts one character at a position and returns the columns it took (0 when clipped).
    /// A wide character that would straddle `clipMaxX` becomes a space, so nothing spills over.
    @discardableResult
    public mutating func put(_ character: Character, x: Int, y: Int, style: Style = .normal,
                             clipMaxX: Int? = nil) -> Int {
        let limit = min(clipMaxX ?? width, width)
        guard y >= 0, y < height, x >= 0, x < limit else { return 0 }
        let safe = DisplayWidth.sanitized(character)
        let columns = DisplayWidth.of(safe)
        if columns == 0 { return 0 }
        if columns == 2 && x + 1 >= limit {
            setNarrow(Cell(" ", style: style), x: x, y: y)
            return 1
        }
        if columns == 1 {
            setNarrow(Cell(safe, style: style), x: x, y: y)
            return 1
        }
        // Right half first: repairing it may blank the old left half, which we then overwrite.
        setNarrow(Cell(" ", style: style), x: x + 1, y: y)
        setNarrow(Cell(safe, style: style), x: x, y: y)
        cells[y * width + x + 1].isContinuation = true
        return 2
    }

    /// Writes a single line of text, clipped to the buffer and to `maxWidth` columns. Text that
    /// does not fit ends in the glyph set's ellipsis. Returns the columns written.
    @discardableResult
    public mutating func write(_ text: String, at point: Point, style: Style = .normal,
                               maxWidth: Int? = nil) -> Int {
        let available = min(maxWidth ?? Int.max, width - point.x)
        guard available > 0, point.y >= 0, point.y < height else { return 0 }
        let fitted = Self.truncate(text, toWidth: available, ellipsis: glyphs.ellipsis)
        var x = point.x
        let limit = point.x + available
        for character in fitted {
            let columns = DisplayWidth.of(DisplayWidth.sanitized(character))
            if x < 0 {
                // Starting left of the buffer: skip the hidden part but keep counting columns.
                x += columns
                continue
            }
            x += put(character, x: x, y: point.y, style: style, clipMaxX: limit)
        }
        return x - point.x
    }

    /// Writes text aligned inside one row of `rect`, padding the rest with spaces in `style`.
    public mutating func write(_ text: String, in rect: Rect, alignment: Alignment = .left,
                               style: Style = .normal) {
        guard !rect.isEmpty else { return }
        let fitted = Self.truncate(text, toWidth: rect.width, ellipsis: glyphs.ellipsis)
        let used = DisplayWidth.of(fitted)
        let offset: Int
        switch alignment {
        case .left: offset = 0
        case .right: offset = rect.width - used
        case .center: offset = (rect.width - used) / 2
        }
        fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), style: style)
        write(fitted, at: Point(x: rect.x + offset, y: rect.y), style: style, maxWidth: rect.width - offset)
    }

    /// Fills a rectangle (clipped) with one character.
    public mutating func fill(_ rect: Rect, with character: Character = " ", style: Style = .normal) {
        let area = rect.intersection(bounds)
        guard !area.isEmpty else { return }
        for y in area.y..<area.maxY {
            var x = area.x
            while x < area.maxX {
                let used = put(character, x: x, y: y, style: style, clipMaxX: area.maxX)
                x += max(used, 1)
            }
        }
    }

    /// Re-styles a rectangle without changing its characters (used for row highlights).
    public mutating func applyStyle(_ style: Style, to rect: Rect) {
        let area = rect.intersection(bounds)
        guard !area.isEmpty else { return }
        for y in area.y..<area.maxY {
            for x in area.x..<area.maxX { cells[y * width + x].style = style }
        }
    }

    /// Clears everything to blanks.
    public mutating func clear() { cells = Array(repeating: .blank, count: width * height) }

    // MARK: - Comparing and rendering

    /// The cells that differ from `previous`. When the sizes differ, every cell is a change.
    public func diff(from previous: ScreenBuffer) -> [CellChange] {
        var changes: [CellChange] = []
        let sameSize = previous.width == width && previous.height == height
        for y in 0..<height {
            for x in 0..<width {
                let cell = cells[y * width + x]
                if !sameSize || previous.cells[y * width + x] != cell {
                    changes.append(CellChange(x: x, y: y, cell: cell))
                }
            }
        }
        return changes
    }

    /// The screen as text: one line per row, trailing spaces trimmed, no styles. This is what
    /// snapshot tests compare, and what a `TERM=dumb` dump would look like.
    public func plainText() -> String {
        var lines: [String] = []
        lines.reserveCapacity(height)
        for y in 0..<height {
            var line = ""
            for x in 0..<width {
                let cell = cells[y * width + x]
                if !cell.isContinuation { line.append(cell.character) }
            }
            while line.last == " " { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// The text of one row (trailing spaces trimmed); handy in tests.
    public func line(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        var line = ""
        for x in 0..<width where !cells[y * width + x].isContinuation {
            line.append(cells[y * width + x].character)
        }
        while line.last == " " { line.removeLast() }
        return line
    }

    // MARK: - Helpers

    /// `text` cut to at most `columns` display columns, ending in `ellipsis` when cut.
    public static func truncate(_ text: String, toWidth columns: Int, ellipsis: Character = "…") -> String {
        guard columns > 0 else { return "" }
        if DisplayWidth.of(text) <= columns { return text }
        let budget = columns - DisplayWidth.of(ellipsis)
        var result = ""
        var used = 0
        for character in text {
            let w = DisplayWidth.of(DisplayWidth.sanitized(character))
            if used + w > budget { break }
            result.append(character)
            used += w
        }
        // "try …" reads as a gap; "try…" reads as cut.
        while result.last == " " { result.removeLast() }
        result.append(ellipsis)
        return result
    }

    /// Sets a narrow cell, repairing any wide character it cuts in half: a terminal shows
    /// garbage if half of a wide glyph is overwritten and the other half is left behind.
    private mutating func setNarrow(_ cell: Cell, x: Int, y: Int) {
        let index = y * width + x
        if cells[index].isContinuation, x > 0 {
            cells[index - 1] = Cell(" ", style: cells[index - 1].style)
        }
        if x + 1 < width, cells[index + 1].isContinuation {
            cells[index + 1] = Cell(" ", style: cells[index + 1].style)
        }
        cells[index] = cell
    }
}

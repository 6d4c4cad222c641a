/// The screen switcher: ` 1 Overview  2 DLQ  3 Leads …` with the current one highlighted.
/// When the names do not fit, other tabs shrink to their numbers, from the last one backwards,
/// until the rest fit; the current tab always keeps its name.
public struct Tabs: Sendable {
    public var titles: [String]
    /// The key that opens each tab ("1"…"8", "0"); by default its position from 1.
    public var keys: [String]
    public var selected: Int
    /// Right-aligned text, e.g. the database and "READ-ONLY".
    public var trailing: String

    public init(titles: [String], keys: [String]? = nil, selected: Int, trailing: String = "") {
        self.titles = titles
        self.keys = keys ?? titles.indices.map { String($0 + 1) }
        self.selected = selected
        self.trailing = trailing
    }

    func label(_ index: Int, full: Bool) -> String {
        full || index == selected ? " \(keys[index]) \(titles[index]) " : " \(keys[index]) "
    }

    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let row = rect.row(0)
        buffer.fill(row, style: .header)
        let trailingWidth = min(DisplayWidth.of(trailing), max(0, row.width / 2))
        let available = row.width - (trailingWidth > 0 ? trailingWidth + 1 : 0)
        var full = Array(repeating: true, count: titles.count)
        func width() -> Int { titles.indices.reduce(0) { $0 + DisplayWidth.of(label($1, full: full[$1])) } }
        var next = titles.count - 1
        while width() > available, next >= 0 {
            if next != selected { full[next] = false }
            next -= 1
        }
        var x = row.x
        for index in titles.indices {
            let text = label(index, full: full[index])
            let style = index == selected
                ? Style(foreground: .selected, background: .selected, attributes: .bold)
                : Style.header
            let room = row.x + available - x
            guard DisplayWidth.of(text) <= room else {
                // One ellipsis says "more screens", instead of a row of cut-off numbers.
                if room > 0 { buffer.put(buffer.glyphs.ellipsis, x: x, y: row.y, style: .header) }
                break
            }
            x += buffer.write(text, at: Point(x: x, y: row.y), style: style)
        }
        if trailingWidth > 0 {
            buffer.write(trailing, in: Rect(x: row.maxX - trailingWidth, y: row.y, width: trailingWidth, height: 1),
                         alignment: .right, style: .header)
        }
    }
}

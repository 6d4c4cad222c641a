/// The screen switcher: ` 1 Overview  2 DLQ  3 Leads …` with the current one highlighted.
/// When the names do not fit, other tabs shrink to their numbers, the current keeps its name.
public struct Tabs: Sendable {
    public var titles: [String]
    public var selected: Int
    /// Right-aligned text, e.g. the database and "READ-ONLY".
    public var trailing: String

    public init(titles: [String], selected: Int, trailing: String = "") {
        self.titles = titles
        self.selected = selected
        self.trailing = trailing
    }

    /// How much of each title a row has room for: all of them with a space either side, all
    /// of them with one space between (nine tabs at 80 columns), or only the selected one.
    enum Fit { case full, tight, numbers }

    func label(_ index: Int, fit: Fit) -> String {
        switch fit {
        case .full: " \(index + 1) \(titles[index]) "
        case .tight: " \(index + 1) \(titles[index])" + (index == titles.count - 1 ? " " : "")
        case .numbers: index == selected ? " \(index + 1) \(titles[index]) " : " \(index + 1) "
        }
    }

    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let row = rect.row(0)
        buffer.fill(row, style: .header)
        let trailingWidth = min(DisplayWidth.of(trailing), max(0, row.width / 2))
        let available = row.width - (trailingWidth > 0 ? trailingWidth + 1 : 0)
        func width(_ fit: Fit) -> Int { titles.indices.reduce(0) { $0 + DisplayWidth.of(label($1, fit: fit)) } }
        let fit: Fit = width(.full) <= available ? .full : width(.tight) <= available ? .tight : .numbers
        var x = row.x
        for index in titles.indices {
            let text = label(index, fit: fit)
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

/// The screen switcher: ` 1 Overview  2 DLQ  3 Leads …` with the current one highlighted.
///
/// When the names do not fit (80 columns hold about 70 of the 95 the ten full names need), the
/// row gets tighter one step at a time, so that every tab keeps a word an operator can read:
/// 1. full names, two spaces apart (120 columns);
/// 2. short names (`shortTitles`: "Sched", "Wkrs"), the current tab still in full;
/// 3. short names one space apart, the current tab padded so its highlight stands apart;
/// 4. the current tab short too;
/// 5. only then do other tabs shrink to their numbers, from the last one backwards.
/// The current tab is always highlighted (reverse video without colours) and keeps its name.
public struct Tabs: Sendable {
    public var titles: [String]
    /// A shorter name for each tab, used when the full names do not fit; the full title if nil.
    public var shortTitles: [String]
    /// The key that opens each tab ("1"…"8", "0"); by default its position from 1.
    public var keys: [String]
    public var selected: Int
    /// Right-aligned text, e.g. the database and "READ-ONLY".
    public var trailing: String

    public init(titles: [String], shortTitles: [String]? = nil, keys: [String]? = nil, selected: Int, trailing: String = "") {
        self.titles = titles
        self.shortTitles = shortTitles.flatMap { $0.count == titles.count ? $0 : nil } ?? titles
        self.keys = keys ?? titles.indices.map { String($0 + 1) }
        self.selected = selected
        self.trailing = trailing
    }

    /// How tightly one attempt packs the row.
    struct Packing {
        var short: Bool
        var selectedShort: Bool
        var tight: Bool
    }

    static let packings = [Packing(short: false, selectedShort: false, tight: false),
                           Packing(short: true, selectedShort: false, tight: false),
                           Packing(short: true, selectedShort: false, tight: true),
                           Packing(short: true, selectedShort: true, tight: true)]

    /// One tab's text: " 3 DLQ " (padded), " 3 DLQ" (tight; the next tab's space separates it),
    /// or " 3" once it has given up its name.
    func label(_ index: Int, packing: Packing, named: Bool) -> String {
        let isSelected = index == selected
        guard named || isSelected else { return packing.tight ? " \(keys[index])" : " \(keys[index]) " }
        let name = packing.short && (!isSelected || packing.selectedShort) ? shortTitles[index] : titles[index]
        // The current tab keeps a space on both sides so its highlight is a block, not a smear.
        return packing.tight && !isSelected ? " \(keys[index]) \(name)" : " \(keys[index]) \(name) "
    }

    /// The labels to draw in `available` columns: the first packing that fits with every name,
    /// else the tightest with names given up from the right until the rest fit.
    func labels(available: Int) -> [String] {
        func width(_ labels: [String]) -> Int { labels.reduce(0) { $0 + DisplayWidth.of($1) } }
        for packing in Self.packings {
            let all = titles.indices.map { label($0, packing: packing, named: true) }
            if width(all) <= available { return all }
        }
        let tightest = Self.packings[Self.packings.count - 1]
        var result = titles.indices.map { label($0, packing: tightest, named: true) }
        var next = titles.count - 1
        while width(result) > available, next >= 0 {
            if next != selected {
                result[next] = label(next, packing: tightest, named: false)
            }
            next -= 1
        }
        return result
    }

    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let row = rect.row(0)
        buffer.fill(row, style: .header)
        let trailingWidth = min(DisplayWidth.of(trailing), max(0, row.width / 2))
        let available = row.width - (trailingWidth > 0 ? trailingWidth + 1 : 0)
        var x = row.x
        for (index, text) in labels(available: available).enumerated() {
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

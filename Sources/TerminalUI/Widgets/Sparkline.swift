/// A one-row trend: `▁▁▂▅█▃▁`. The newest value is at the right edge.
public struct Sparkline: Sendable {
    public var values: [Double]
    /// A shared scale (so rows of a table compare); nil scales to this series' own maximum.
    public var maximum: Double?
    public var style: Style

    public init(_ values: [Double], maximum: Double? = nil, style: Style = .role(.bar)) {
        self.values = values
        self.maximum = maximum
        self.style = style
    }

    /// The glyph level (index into `levels`) for each value. Zero (or less) is the lowest
    /// level; any positive value is at least the second, so "a little traffic" never looks
    /// the same as "none".
    public static func levels(for values: [Double], maximum: Double?, levelCount: Int) -> [Int] {
        guard levelCount > 0 else { return values.map { _ in 0 } }
        let top = maximum ?? values.filter(\.isFinite).max() ?? 0
        return values.map { value in
            guard value.isFinite, value > 0, top > 0 else { return 0 }
            guard levelCount > 1 else { return 0 }
            let scaled = Int((min(value, top) / top * Double(levelCount - 1)).rounded())
            return min(max(scaled, 1), levelCount - 1)
        }
    }

    /// The sparkline as text of at most `width` columns (the most recent values).
    public func render(width: Int, glyphs: GlyphSet) -> String {
        guard width > 0 else { return "" }
        let shown = Array(values.suffix(width))
        let levels = Self.levels(for: shown, maximum: maximum, levelCount: glyphs.sparkLevels.count)
        return String(levels.map { glyphs.sparkLevels[$0] })
    }

    /// Draws into the first row of `rect`, right-aligned so "now" is always at the edge.
    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let text = render(width: rect.width, glyphs: buffer.glyphs)
        buffer.write(text, in: rect.row(0), alignment: .right, style: style)
    }
}

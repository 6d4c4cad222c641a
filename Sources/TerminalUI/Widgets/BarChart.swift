/// Vertical bars (e.g. jobs per hour over 24 h) with a value axis on the left and labels
/// underneath. Fits any height: the bottom row holds labels, the rest is the plot, and the
/// top cell of each bar uses partial blocks so small differences still show.
public struct BarChart: Sendable {
    public var values: [Double]
    /// One label per bar (may be empty strings); drawn only where they do not collide.
    public var labels: [String]
    public var barStyle: Style
    /// Columns between bars when there is room.
    public var gap: Int
    /// A glyph over some bars (a deploy mark, an alert), drawn on the plot's top row; one entry
    /// per bar, nil for none. The newest bars are the ones shown, and their markers with them.
    public var markers: [Character?]

    public init(values: [Double], labels: [String] = [], barStyle: Style = .role(.bar), gap: Int = 1,
                markers: [Character?] = []) {
        self.values = values
        self.markers = markers
        self.labels = labels
        self.barStyle = barStyle
        self.gap = gap
    }

    /// The width of each bar and the gap actually used for `count` bars in `width` columns.
    public static func barGeometry(count: Int, width: Int, preferredGap: Int) -> (bar: Int, gap: Int) {
        guard count > 0, width > 0 else { return (0, 0) }
        for g in stride(from: preferredGap, through: 0, by: -1) {
            let bar = (width - (count - 1) * g) / count
            if bar >= 1 { return (bar, g) }
        }
        return (1, 0)
    }

    /// Height of each bar in eighths of a cell for a plot of `rows` rows. Positive values get
    /// at least one eighth, so a quiet hour is distinguishable from an idle one.
    public static func eighths(for values: [Double], rows: Int) -> [Int] {
        let top = values.filter(\.isFinite).max() ?? 0
        let full = rows * 8
        return values.map { value in
            guard value.isFinite, value > 0, top > 0, full > 0 else { return 0 }
            return min(full, max(1, Int((value / top * Double(full)).rounded())))
        }
    }

    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let hasLabelRow = rect.height >= 3
        let plotRows = rect.height - (hasLabelRow ? 1 : 0)
        let top = values.filter(\.isFinite).max() ?? 0
        let topLabel = Format.count(Format.clampedInt(top.rounded()))
        let axisWidth = rect.width >= 12 ? DisplayWidth.of(topLabel) + 1 : 0
        let plotX = rect.x + axisWidth
        let plotWidth = rect.width - axisWidth
        guard plotWidth > 0 else { return }
        if axisWidth > 0 && top > 0 {
            buffer.write(topLabel, in: Rect(x: rect.x, y: rect.y, width: axisWidth - 1, height: 1),
                         alignment: .right, style: .muted)
        }
        if axisWidth > 0 {
            if plotRows > 1 || top <= 0 {
                buffer.write("0", in: Rect(x: rect.x, y: rect.y + plotRows - 1, width: axisWidth - 1, height: 1),
                             alignment: .right, style: .muted)
            }
        }
        // Show the newest bars when there are more bars than columns.
        let shownCount = min(values.count, plotWidth)
        let shown = Array(values.suffix(shownCount))
        let shownLabels = Array(labels.suffix(shownCount))
        let shownMarkers = Array(markers.suffix(shownCount))
        let (barWidth, usedGap) = Self.barGeometry(count: shown.count, width: plotWidth, preferredGap: gap)
        let heights = Self.eighths(for: shown, rows: plotRows)
        let levels = buffer.glyphs.barLevels
        var labelEnd = Int.min
        for (i, height) in heights.enumerated() {
            let x = plotX + i * (barWidth + usedGap)
            for row in 0..<plotRows {
                let y = rect.y + plotRows - 1 - row
                let filled = height - row * 8
                guard filled > 0 else { break }
                let glyph = filled >= 8 ? levels[levels.count - 1]
                    : levels[min(levels.count - 1, (filled * levels.count - 1) / 8)]
                for dx in 0..<barWidth { buffer.put(glyph, x: x + dx, y: y, style: barStyle) }
            }
            if i < shownMarkers.count, let marker = shownMarkers[i] {
                buffer.put(marker, x: x, y: rect.y, style: .warn)
            }
            if hasLabelRow, i < shownLabels.count, !shownLabels[i].isEmpty, x > labelEnd {
                let written = buffer.write(shownLabels[i], at: Point(x: x, y: rect.maxY - 1), style: .muted,
                                           maxWidth: rect.maxX - x)
                labelEnd = x + written
            }
        }
    }
}

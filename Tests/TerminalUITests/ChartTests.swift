import Testing
import TerminalUI

@Suite struct ChartTests {
    @Test func sparklineAllZerosIsAFlatBaseline() {
        #expect(Sparkline([0, 0, 0, 0]).render(width: 10, glyphs: .unicode) == "▁▁▁▁")
        #expect(Sparkline([0, 0, 0]).render(width: 10, glyphs: .ascii) == "...")
        #expect(Sparkline([]).render(width: 10, glyphs: .unicode) == "")
    }

    @Test func sparklineOneSpikeKeepsSmallValuesVisible() {
        #expect(Sparkline([0, 1, 0, 100, 0, 50]).render(width: 10, glyphs: .unicode) == "▁▂▁█▁▅")
        #expect(Sparkline([0, 1, 0, 100, 0, 50]).render(width: 10, glyphs: .ascii) == ".-.#.=")
    }

    @Test func sparklineShowsTheNewestValuesAndASharedScale() {
        #expect(Sparkline([9, 9, 9, 1, 2]).render(width: 2, glyphs: .unicode) == "▅█")
        #expect(Sparkline([1, 2], maximum: 8).render(width: 4, glyphs: .unicode) == "▂▃")
        #expect(Sparkline([.nan, .infinity, 4]).render(width: 4, glyphs: .unicode) == "▁▁█")
    }

    @Test func sparklineIsRightAligned() {
        let buffer = render(8, 1) { Sparkline([1, 2, 3]).draw(into: &$0, in: $0.bounds) }
        #expect(buffer.plainText() == "     ▃▆█")
    }

    @Test func barChartOneSpike() throws {
        var values = Array(repeating: 0.0, count: 24)
        values[20] = 1200
        values[3] = 10
        let labels = (0..<24).map { $0 % 6 == 0 ? String(format2: $0) : "" }
        let chart = BarChart(values: values, labels: labels)
        try assertScreen(render(80, 6) { chart.draw(into: &$0, in: $0.bounds) }, named: "barchart-spike")
        try assertScreen(render(40, 6, ascii: true) { chart.draw(into: &$0, in: $0.bounds) }, named: "barchart-spike-ascii-40")
    }

    @Test func barChartAllZerosDrawsOnlyTheAxis() throws {
        let chart = BarChart(values: Array(repeating: 0, count: 24), labels: (0..<24).map { $0 % 6 == 0 ? "\($0)h" : "" })
        let buffer = render(60, 4) { chart.draw(into: &$0, in: $0.bounds) }
        try assertScreen(buffer, named: "barchart-zeros")
        #expect(!buffer.plainText().contains("▁"))
    }

    @Test func barEighthsScaleToTheTallest() {
        #expect(BarChart.eighths(for: [0, 1, 50, 100], rows: 2) == [0, 1, 8, 16])
        #expect(BarChart.eighths(for: [0, 0], rows: 3) == [0, 0])
        #expect(BarChart.barGeometry(count: 24, width: 74, preferredGap: 1) == (bar: 2, gap: 1))
        #expect(BarChart.barGeometry(count: 24, width: 30, preferredGap: 1) == (bar: 1, gap: 0))
    }

    @Test func barChartSurvivesTinyRects() {
        let chart = BarChart(values: [1, 2, 3], labels: ["a", "b", "c"])
        for (w, h) in [(0, 0), (1, 1), (3, 1), (12, 2)] {
            _ = render(w, h) { chart.draw(into: &$0, in: $0.bounds) }
        }
    }

    @Test func progressBars() throws {
        let buffer = render(50, 4) { buffer in
            ProgressBar(fraction: 0, label: "run 1", labelWidth: 16).draw(into: &buffer, in: buffer.bounds.row(0))
            ProgressBar(fraction: 0.42, label: "leads → column 7", labelWidth: 16).draw(into: &buffer, in: buffer.bounds.row(1))
            ProgressBar(fraction: 0.999, label: "almost", labelWidth: 16).draw(into: &buffer, in: buffer.bounds.row(2))
            ProgressBar(fraction: 1, label: "done", labelWidth: 16).draw(into: &buffer, in: buffer.bounds.row(3))
        }
        try assertScreen(buffer, named: "progress-bars")
        let narrow = render(12, 1, ascii: true) { ProgressBar(fraction: 0.5, label: "hidden").draw(into: &$0, in: $0.bounds) }
        #expect(narrow.plainText() == "[##...]  50%")
    }

    @Test func progressNeverLooksFullBeforeItIs() {
        #expect(ProgressBar.filledCells(fraction: 0.999, width: 10) == 9)
        #expect(ProgressBar.filledCells(fraction: 1, width: 10) == 10)
        #expect(ProgressBar.filledCells(fraction: -1, width: 10) == 0)
    }
}

extension String {
    /// "06": hour labels for the chart.
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : "\(value)" }
}

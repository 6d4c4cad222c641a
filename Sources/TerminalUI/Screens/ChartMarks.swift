import Foundation
import QueueStore

/// The glyphs on the throughput charts: the overview's hourly chart and the queue detail's
/// per-minute chart. A deploy (or any) mark in a bar's period is ▼ (`v` in ASCII), an alert that
/// fired for this queue is `!`. A mark wins when both happened: the deploy is usually the cause
/// the operator looks for.
enum ChartMarks {
    static func hourly(_ queue: QueueHealth, context: ScreenContext) -> [Character?] {
        markers(queue, starts: queue.throughputPerHour.map(\.hour), length: 3600, context: context)
    }

    static func perMinute(_ queue: QueueHealth, context: ScreenContext) -> [Character?] {
        markers(queue, starts: queue.throughputPerMinute.map(\.minute), length: 60, context: context)
    }

    /// "▼ deploy ! alert" for a chart's title when any of its bars carries a glyph.
    static func legend(_ markers: [Character?], context: ScreenContext) -> String {
        markers.contains { $0 != nil } ? "\(context.dot)\(context.glyphs.arrowDown) deploy ! alert" : ""
    }

    private static func markers(_ queue: QueueHealth, starts: [Date], length: TimeInterval, context: ScreenContext) -> [Character?] {
        let marks = context.state.chartMarks
        guard !marks.isEmpty else { return [] }
        return starts.map { start -> Character? in
            let end = start.addingTimeInterval(length)
            let inPeriod = marks.filter { $0.at >= start && $0.at < end }
            if inPeriod.contains(where: { $0.source == .mark }) { return context.glyphs.arrowDown }
            if inPeriod.contains(where: { $0.source == .alert && $0.queue == queue.name }) { return "!" }
            return nil
        }
    }
}

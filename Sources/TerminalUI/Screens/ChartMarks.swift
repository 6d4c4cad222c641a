import Foundation
import QueueStore

/// The glyphs on the hourly throughput chart (overview and queue detail): a deploy (or any)
/// mark in that hour is ▼ (`v` in ASCII), an alert that fired for this queue is `!`. A mark wins
/// when both happened: the deploy is usually the cause the operator looks for.
enum ChartMarks {
    static func hourly(_ queue: QueueHealth, context: ScreenContext) -> [Character?] {
        let marks = context.state.chartMarks
        guard !marks.isEmpty else { return [] }
        return queue.throughputPerHour.map { point -> Character? in
            let end = point.hour.addingTimeInterval(3600)
            let inHour = marks.filter { $0.at >= point.hour && $0.at < end }
            if inHour.contains(where: { $0.source == .mark }) { return context.glyphs.arrowDown }
            if inHour.contains(where: { $0.source == .alert && $0.queue == queue.name }) { return "!" }
            return nil
        }
    }
}

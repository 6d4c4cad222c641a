import TerminalUI

/// A realistic overview laid out from widgets and mock figures. Not the real screen (that waits
/// for the Dashboard models); it proves the widgets compose at every size the dashboard meets.
enum MockOverviewScreen {
    struct QueueFigures {
        var name: String
        var pending, processing, doneLastHour, deadLetter: Int
        var oldestPendingSeconds: Int
        var p50, p95, p99: Double
        var trend: [Double]
        var paused = false
    }

    static let queues: [QueueFigures] = [
        QueueFigures(name: "emails", pending: 1_234, processing: 8, doneLastHour: 4_812, deadLetter: 412,
                     oldestPendingSeconds: 245, p50: 180, p95: 850, p99: 2_400,
                     trend: [30, 42, 40, 55, 80, 120, 90, 60, 75, 81, 95, 130]),
        QueueFigures(name: "store-sync", pending: 3, processing: 3, doneLastHour: 96, deadLetter: 0,
                     oldestPendingSeconds: 12, p50: 1_450, p95: 4_100, p99: 9_800,
                     trend: [8, 8, 7, 9, 8, 8, 10, 8, 7, 8, 9, 8]),
        QueueFigures(name: "campaign-messages", pending: 1_234_567, processing: 32, doneLastHour: 61_250,
                     deadLetter: 17, oldestPendingSeconds: 11_520, p50: 42, p95: 310, p99: 1_200,
                     trend: [0, 0, 0, 0, 0, 0, 500, 900, 1_000, 980, 1_020, 990]),
        QueueFigures(name: "lead-migration", pending: 0, processing: 0, doneLastHour: 0, deadLetter: 0,
                     oldestPendingSeconds: 0, p50: 0, p95: 0, p99: 0,
                     trend: Array(repeating: 0, count: 12), paused: true),
        QueueFigures(name: "webhooks-日本", pending: 12, processing: 1, doneLastHour: 340, deadLetter: 2,
                     oldestPendingSeconds: 3, p50: 0.4, p95: 3, p99: 11, trend: [1, 3, 2, 5, 4, 3, 2, 6, 4, 3, 5, 4]),
    ]

    static let hourly: [Double] = [
        120, 80, 60, 40, 35, 50, 210, 640, 1_480, 1_920, 2_050, 1_870,
        1_640, 1_720, 1_900, 2_210, 2_480, 2_050, 1_300, 900, 620, 410, 260, 180,
    ]

    static func render(width: Int, height: Int, ascii: Bool = false) -> ScreenBuffer {
        var buffer = ScreenBuffer(width: width, height: height, glyphs: .select(ascii: ascii))
        let sizeClass = Layout.sizeClass(width: width, height: height)
        guard sizeClass != .tooSmall else {
            TooSmallScreen.draw(into: &buffer)
            return buffer
        }
        let compact = sizeClass.isCompact
        let chartHeight = compact ? 0 : max(8, height / 3)
        let parts = Layout.vertical(buffer.bounds, [.fixed(1), .fixed(1), .flexible, .fixed(chartHeight), .fixed(1)])
        Tabs(titles: ["Overview", "DLQ", "Leads", "Workers", "Audit"], selected: 0,
             trailing: compact ? "" : "db: prod (operator)").draw(into: &buffer, in: parts[0])
        Banner("emails: 412 jobs in the DLQ (threshold 100)", level: .warn).draw(into: &buffer, in: parts[1])

        // A frame costs two rows; on a short terminal the rows are worth more as data.
        let inner = parts[2].height >= 6 ? Box(title: "Queues").draw(into: &buffer, in: parts[2]) : parts[2]
        queueTable(compact: compact, glyphs: buffer.glyphs, sparkWidth: width >= 100 ? 16 : 10)
            .draw(into: &buffer, in: inner)

        if chartHeight > 0 {
            let halves = Layout.horizontal(parts[3], [.flexible(weight: 3), .flexible(weight: 2)])
            let dot = buffer.glyphs.separator
            let chartArea = Box(title: "emails \(dot) jobs/hour, 24h").draw(into: &buffer, in: halves[0])
            BarChart(values: hourly, labels: (0..<24).map { $0 % 6 == 0 ? "\($0)h" : "" })
                .draw(into: &buffer, in: chartArea)
            let errorArea = Box(title: "Top errors, 24h").draw(into: &buffer, in: halves[1])
            Table(columns: [TableColumn("ERROR TYPE", minWidth: 8, flexible: true),
                            TableColumn("N", alignment: .right), TableColumn("LAST", alignment: .right)],
                  rows: [TableRow(["SMTPTimeout", Format.count(389), Format.age(seconds: 40)], cellStyles: [1: .error]),
                         TableRow(["RateLimited", Format.count(21), Format.age(seconds: 600)]),
                         TableRow(["InvalidRecipient", Format.count(2), Format.age(seconds: 7_300)])])
                .draw(into: &buffer, in: errorArea)
        }
        StatusLine(hints: hints,
                   status: status(ago: 1, glyphs: buffer.glyphs)).draw(into: &buffer, in: parts[4])
        return buffer
    }

    static func status(ago seconds: Int, glyphs: GlyphSet) -> String {
        let dot = " \(glyphs.separator) "
        return ["4 workers", "44 in flight", "\(Format.age(seconds: seconds)) ago", "every 2s"].joined(separator: dot)
    }

    static let hints = [KeyHint("q", "quit"), KeyHint("Enter", "open"), KeyHint("/", "filter"), KeyHint(":", "cmd"),
                        KeyHint("?", "help")]

    static func queueTable(compact: Bool, glyphs: GlyphSet, sparkWidth: Int) -> Table {
        var columns = [
            TableColumn("QUEUE", minWidth: 10, flexible: true),
            TableColumn("PEND", alignment: .right), TableColumn("PROC", alignment: .right),
            TableColumn("DONE/h", alignment: .right), TableColumn("DLQ", alignment: .right),
            TableColumn("OLDEST", alignment: .right),
        ]
        if !compact {
            columns += [TableColumn("P50", alignment: .right), TableColumn("P95", alignment: .right),
                        TableColumn("P99", alignment: .right), TableColumn("TREND", minWidth: sparkWidth, maxWidth: sparkWidth)]
        }
        let rows = queues.map { q -> TableRow in
            var cells = [q.paused ? q.name + " (paused)" : q.name, Format.count(q.pending), Format.count(q.processing),
                         Format.count(q.doneLastHour), Format.count(q.deadLetter), Format.age(seconds: q.oldestPendingSeconds)]
            if !compact {
                // An idle queue has no percentiles; "-" says so, "0ms" would claim instant jobs.
                let idle = q.doneLastHour == 0
                cells += [idle ? "-" : Format.duration(milliseconds: q.p50), idle ? "-" : Format.duration(milliseconds: q.p95),
                          idle ? "-" : Format.duration(milliseconds: q.p99), Sparkline(q.trend).render(width: sparkWidth, glyphs: glyphs)]
            }
            return TableRow(cells, style: q.paused ? .muted : .normal,
                            cellStyles: q.deadLetter > 100 ? [4: .error, 9: .role(.bar)] : [9: .role(.bar)])
        }
        return Table(columns: columns, rows: rows, selectedIndex: 0)
    }
}

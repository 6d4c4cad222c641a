import Foundation

/// A cron expression in UTC: 5 fields (minute hour day-of-month month day-of-week) or 6 with a
/// leading seconds field, plus the @hourly-style macros. Pure: no clock, no time zone, no I/O.
///
/// Why Swift and not SQL: the ticker needs "the next fire time after t" and "how many ticks were
/// missed between t0 and t1"; both are loops over calendar fields that are short and testable
/// here and slow and awkward in PL/pgSQL. UTC only, so there are no DST gaps or repeated hours.
///
/// Field syntax (per comma-separated item): `*`, `N`, `A-B`, any of those followed by `/STEP`,
/// and `N/STEP` (N to the field's maximum). Months take JAN…DEC, days of week SUN…SAT (0 and 7
/// are both Sunday). Like Vixie cron, when both day-of-month and day-of-week are restricted (do
/// not start with `*`), a day matches if EITHER matches; otherwise both must.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    let seconds: Set<Int>
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public var description: String { source }

    /// How far ahead `next(after:)` looks before deciding an expression never fires (Feb 29 on a
    /// Monday-only schedule needs up to 28 years; 30 Feb never comes).
    static let horizonSeconds: Int64 = 30 * 366 * 86_400

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    struct Field {
        let name: String
        let range: ClosedRange<Int>
        let names: [String: Int]
    }

    static let monthNames = ["JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
                             "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12]
    static let dayNames = ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
    static let fields = [
        Field(name: "second", range: 0...59, names: [:]),
        Field(name: "minute", range: 0...59, names: [:]),
        Field(name: "hour", range: 0...23, names: [:]),
        Field(name: "day of month", range: 1...31, names: [:]),
        Field(name: "month", range: 1...12, names: monthNames),
        Field(name: "day of week", range: 0...7, names: dayNames),
    ]

    /// Parses and checks that the expression fires at least once in the next 30 years.
    /// Throws `QueueStoreError.invalidInput` naming the field and the problem.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        source = trimmed
        func fail(_ why: String) -> QueueStoreError {
            .invalidInput("cron expression \"\(trimmed.prefix(100))\": \(why)")
        }
        var parts = (Self.macros[trimmed.lowercased()] ?? trimmed)
            .split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if trimmed.hasPrefix("@") && Self.macros[trimmed.lowercased()] == nil {
            throw fail("unknown macro; use one of \(Self.macros.keys.sorted().joined(separator: ", "))")
        }
        guard parts.count == 5 || parts.count == 6 else {
            throw fail("expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got \(parts.count)")
        }
        if parts.count == 5 { parts.insert("0", at: 0) }
        var sets: [Set<Int>] = []
        for (part, field) in zip(parts, Self.fields) {
            do { sets.append(try Self.parse(part, field)) } catch let error as CronFieldError { throw fail("\(field.name) field \"\(part)\": \(error.why)") }
        }
        seconds = sets[0]; minutes = sets[1]; hours = sets[2]; daysOfMonth = sets[3]; months = sets[4]
        daysOfWeek = Set(sets[5].map { $0 % 7 })
        dayOfMonthRestricted = !parts[3].hasPrefix("*")
        dayOfWeekRestricted = !parts[5].hasPrefix("*")
        // Cron patterns repeat every 400 years, and any day that exists at all recurs within 8
        // years, so one look from 1970 decides whether the expression ever fires.
        if next(after: Date(timeIntervalSince1970: 0)) == nil {
            throw fail("never fires (no such date, e.g. 30 February)")
        }
    }

    /// One field's values. Errors are plain strings; init adds the expression and field name.
    static func parse(_ text: String, _ field: Field) throws -> Set<Int> {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw CronFieldError("empty list item") }
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw CronFieldError("more than one '/' in \"\(item)\"") }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s >= 1 else { throw CronFieldError("step \"\(pieces[1])\" must be a whole number of at least 1") }
                step = s
            }
            let base = pieces[0]
            let low: Int, high: Int
            if base == "*" {
                low = field.range.lowerBound; high = field.range.upperBound
            } else if let dash = base.firstIndex(of: "-") {
                low = try value(base[..<dash], field)
                high = try value(base[base.index(after: dash)...], field)
                guard low <= high else { throw CronFieldError("range \(base) runs backwards") }
            } else {
                low = try value(base, field)
                // "N/STEP" means N, N+STEP, … up to the maximum, as in Vixie cron.
                high = pieces.count == 2 ? field.range.upperBound : low
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    static func value(_ text: Substring, _ field: Field) throws -> Int {
        if let n = Int(text) {
            guard field.range.contains(n) else { throw CronFieldError("\(n) is outside \(field.range.lowerBound)…\(field.range.upperBound)") }
            return n
        }
        if let n = field.names[text.uppercased()] { return n }
        if text.isEmpty { throw CronFieldError("missing number") }
        throw CronFieldError("\"\(text)\" is not a number" + (field.names.isEmpty ? "" : " or a name like \(field.names.keys.sorted().first!)"))
    }

    /// The first fire time strictly after `date` (whole UTC seconds), or nil if none within the
    /// horizon. Skips whole months, days, hours and minutes that cannot match.
    public func next(after date: Date) -> Date? {
        let start = Int64(floor(date.timeIntervalSince1970)) + 1
        guard let t = nextEpoch(from: start, limit: start + Self.horizonSeconds) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(t))
    }

    /// The first fire time at or after `from` (epoch seconds), not beyond `limit`.
    func nextEpoch(from: Int64, limit: Int64) -> Int64? {
        var t = from
        while t <= limit {
            let day = Self.floorDiv(t, 86_400)
            let secondOfDay = Int(t - day * 86_400)
            let (y, m, d) = CivilDate.from(days: day)
            if !months.contains(m) {
                t = CivilDate.days(year: m == 12 ? y + 1 : y, month: m == 12 ? 1 : m + 1, day: 1) * 86_400
                continue
            }
            if !dayMatches(dayOfMonth: d, weekday: Int(Self.floorMod(day + 4, 7))) {  // 1970-01-01 was a Thursday
                t = (day + 1) * 86_400
                continue
            }
            let h = secondOfDay / 3600, mi = secondOfDay % 3600 / 60, s = secondOfDay % 60
            if !hours.contains(h) { t = day * 86_400 + Int64(h + 1) * 3600; continue }
            if !minutes.contains(mi) { t = day * 86_400 + Int64(h * 3600 + (mi + 1) * 60); continue }
            if !seconds.contains(s) { t += 1; continue }
            return t
        }
        return nil
    }

    /// Fire times in (after, upTo], counted up to `cap`, and the last of them. The ticker uses it
    /// to coalesce the ticks missed during downtime into one run and to report how many.
    public func ticks(after: Date, upTo: Date, cap: Int = 100_000) -> (count: Int, last: Date?) {
        var count = 0
        var last: Date?
        var cursor = after
        let end = Int64(floor(upTo.timeIntervalSince1970))
        while count < cap {
            let from = Int64(floor(cursor.timeIntervalSince1970)) + 1
            guard let t = nextEpoch(from: from, limit: end) else { break }
            count += 1
            last = Date(timeIntervalSince1970: TimeInterval(t))
            cursor = last!
        }
        return (count, last)
    }

    private func dayMatches(dayOfMonth d: Int, weekday: Int) -> Bool {
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return daysOfMonth.contains(d) || daysOfWeek.contains(weekday)
        case (true, false): return daysOfMonth.contains(d)
        case (false, true): return daysOfWeek.contains(weekday)
        case (false, false): return true
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
}

/// Proleptic Gregorian dates <-> days since 1970-01-01 (H. Hinnant's algorithms), so that cron
/// arithmetic needs no Calendar and no time zone.
enum CivilDate {
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func from(days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (Int(yoe + era * 400) + (m <= 2 ? 1 : 0), m, d)
    }
}

/// Why one field is wrong; init prefixes the expression and the field name.
struct CronFieldError: Error { let why: String; init(_ why: String) { self.why = why } }

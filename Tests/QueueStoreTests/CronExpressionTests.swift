import Foundation
import Testing
@testable import QueueStore

/// The cron parser and next-fire computation (pure, UTC).
@Suite("cron expressions")
struct CronExpressionTests {
    /// "2026-03-29T00:59:59Z" or "…:59.700Z" -> Date.
    func utc(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        if text.contains(".") { formatter.formatOptions.insert(.withFractionalSeconds) }
        return formatter.date(from: text)!
    }
    func iso(_ date: Date?) -> String? { date.map { ISO8601DateFormatter().string(from: $0) } }
    func next(_ expression: String, after: String) throws -> String? {
        iso(try CronExpression(expression).next(after: utc(after)))
    }
    func fires(_ expression: String, after: String, count: Int) throws -> [String] {
        let cron = try CronExpression(expression)
        var out: [String] = []
        var t = utc(after)
        for _ in 0..<count {
            guard let n = cron.next(after: t) else { break }
            out.append(iso(n)!)
            t = n
        }
        return out
    }

    @Test func fiveFieldsFireOnWholeMinutes() throws {
        #expect(try next("*/5 * * * *", after: "2026-01-01T10:02:30Z") == "2026-01-01T10:05:00Z")
        #expect(try next("* * * * *", after: "2026-01-01T10:02:00Z") == "2026-01-01T10:03:00Z")
        #expect(try next("0 * * * *", after: "2026-01-01T23:00:00Z") == "2026-01-02T00:00:00Z")
    }

    @Test func secondsFieldAndSteps() throws {
        #expect(try fires("*/10 * * * * *", after: "2026-01-01T00:00:55Z", count: 3)
                == ["2026-01-01T00:01:00Z", "2026-01-01T00:01:10Z", "2026-01-01T00:01:20Z"])
        #expect(try fires("* * * * * *", after: "2026-12-31T23:59:58.700Z", count: 3)
                == ["2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", "2027-01-01T00:00:01Z"])
        // a-b/n and N/n (N to the maximum).
        #expect(try fires("10-30/10 0 * * * *", after: "2026-01-01T00:00:00Z", count: 4)
                == ["2026-01-01T00:00:10Z", "2026-01-01T00:00:20Z", "2026-01-01T00:00:30Z", "2026-01-01T01:00:10Z"])
        #expect(try fires("0 45/5 * * * *", after: "2026-01-01T00:00:00Z", count: 4)
                == ["2026-01-01T00:45:00Z", "2026-01-01T00:50:00Z", "2026-01-01T00:55:00Z", "2026-01-01T01:45:00Z"])
    }

    @Test func listsRangesAndNames() throws {
        // Weekdays at 09:30 and 17:00: Friday 2026-01-02 17:00 -> Monday 09:30.
        #expect(try fires("30 9 * * MON-FRI,sat", after: "2026-01-02T10:00:00Z", count: 2)
                == ["2026-01-03T09:30:00Z", "2026-01-05T09:30:00Z"])
        #expect(try next("0 0 1 jan,Jul *", after: "2026-01-01T00:00:00Z") == "2026-07-01T00:00:00Z")
        // 7 is Sunday too; 2026-01-04 is a Sunday.
        #expect(try next("0 12 * * 7", after: "2026-01-01T00:00:00Z") == "2026-01-04T12:00:00Z")
        #expect(try next("0 12 * * 0", after: "2026-01-01T00:00:00Z") == "2026-01-04T12:00:00Z")
    }

    @Test func monthAndDayEdges() throws {
        // The 31st skips months without one.
        #expect(try fires("0 0 31 * *", after: "2026-01-31T00:00:00Z", count: 2) == ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"])
        // 29 February: only leap years (2100 is not one).
        #expect(try next("0 0 29 2 *", after: "2026-03-01T00:00:00Z") == "2028-02-29T00:00:00Z")
        #expect(try next("0 0 29 2 *", after: "2096-03-01T00:00:00Z") == "2104-02-29T00:00:00Z")
        // Last second of a year rolls over into the next.
        #expect(try next("59 59 23 31 12 *", after: "2026-06-01T00:00:00Z") == "2026-12-31T23:59:59Z")
        #expect(try next("0 0 1 1 *", after: "2026-12-31T23:59:59Z") == "2027-01-01T00:00:00Z")
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothRestricted() throws {
        // Vixie cron: the 13th OR a Friday. After Thu 2026-02-12: Fri 13th, then Fri 20th.
        #expect(try fires("0 0 13 * FRI", after: "2026-02-12T00:00:00Z", count: 2) == ["2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"])
        // Only the day of week restricted: Fridays only, the 13th is not special.
        #expect(try fires("0 0 * * 5", after: "2026-03-12T00:00:00Z", count: 2) == ["2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z"])
    }

    @Test func utcHasNoDaylightSavingGap() throws {
        // 2026-03-29 01:00 is the EU spring-forward hour; in UTC every hour exists once.
        #expect(try fires("0 30 * * * *", after: "2026-03-29T00:00:00Z", count: 3)
                == ["2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z"])
        #expect(try fires("0 30 1 * * *", after: "2026-10-25T00:00:00Z", count: 2)
                == ["2026-10-25T01:30:00Z", "2026-10-26T01:30:00Z"])
    }

    @Test func macros() throws {
        #expect(try next("@hourly", after: "2026-01-01T10:15:00Z") == "2026-01-01T11:00:00Z")
        #expect(try next("@daily", after: "2026-01-01T10:15:00Z") == "2026-01-02T00:00:00Z")
        #expect(try next("@weekly", after: "2026-01-01T10:15:00Z") == "2026-01-04T00:00:00Z")
        #expect(try next("@yearly", after: "2026-01-01T10:15:00Z") == "2027-01-01T00:00:00Z")
    }

    @Test func missedTicksAreCountedNotReplayed() throws {
        let cron = try CronExpression("*/10 * * * * *")
        let missed = cron.ticks(after: utc("2026-01-01T00:00:00Z"), upTo: utc("2026-01-01T00:01:05Z"))
        #expect(missed.count == 6)
        #expect(iso(missed.last) == "2026-01-01T00:01:00Z")
        let none = cron.ticks(after: utc("2026-01-01T00:00:00Z"), upTo: utc("2026-01-01T00:00:09Z"))
        #expect(none.count == 0 && none.last == nil)
        // A bounded count for very long outages.
        #expect(try CronExpression("* * * * * *").ticks(after: utc("2026-01-01T00:00:00Z"), upTo: utc("2026-02-01T00:00:00Z"), cap: 1000).count == 1000)
    }

    @Test(arguments: [
        ("", "expected 5 fields"),
        ("* * * *", "got 4"),
        ("* * * * * * *", "got 7"),
        ("60 * * * *", "minute field \"60\": 60 is outside 0…59"),
        ("* 24 * * *", "hour field"),
        ("* * 0 * *", "day of month field \"0\""),
        ("* * * 13 *", "month field"),
        ("* * * * 8", "day of week field"),
        ("*/0 * * * *", "step \"0\""),
        ("5-1 * * * *", "runs backwards"),
        ("1,,2 * * * *", "empty list item"),
        ("a * * * *", "\"a\" is not a number"),
        ("* * * FOO *", "or a name like"),
        ("1/2/3 * * * *", "more than one '/'"),
        ("0 0 30 2 *", "never fires"),
        ("@fortnightly", "unknown macro"),
    ])
    func badExpressionsSayWhatIsWrong(expression: String, expected: String) {
        do {
            _ = try CronExpression(expression)
            Issue.record("\"\(expression)\" was accepted")
        } catch {
            #expect(String(describing: error).contains(expected), "\(error)")
            #expect(error is QueueStoreError)
        }
    }

    @Test func civilDatesRoundTrip() {
        for day in stride(from: Int64(-800_000), through: 800_000, by: 37) {
            let (y, m, d) = CivilDate.from(days: day)
            #expect(CivilDate.days(year: y, month: m, day: d) == day)
        }
        #expect(CivilDate.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilDate.from(days: 20_454) == (2026, 1, 1))
    }
}

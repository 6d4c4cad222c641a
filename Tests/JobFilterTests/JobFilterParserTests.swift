import JobFilter
import Testing

/// The filter language: every documented term parses to what it means, printing gives the
/// canonical text, and every bad filter is refused with the term and column at fault.
@Suite struct JobFilterParserTests {
    @Test func theIssuesExamplesParse() throws {
        let cases: [(String, FilterPredicate)] = [
            ("queue:emails", .queue("emails")),
            ("type:send_email", .type("send_email")),
            ("state:running", .state(.running)),
            ("tenant:shop-9", .tenant("shop-9")),
            ("key:store:7", .key("store:7")),
            ("error:\"smtp 550\"", .error("smtp 550")),
            ("worker:host-3", .worker("host-3")),
            ("age>30m", .age(.greater, seconds: 1800)),
            ("age<=1h30m", .age(.lessOrEqual, seconds: 5400)),
            ("since:14:00", .since(.clock(hour: 14, minute: 0, second: 0))),
            ("since:2026-12-01T10:00", .since(.instant(year: 2026, month: 12, day: 1, hour: 10, minute: 0, second: 0, offsetMinutes: nil))),
            ("since:2026-12-01T10:00:05+05:30", .since(.instant(year: 2026, month: 12, day: 1, hour: 10, minute: 0, second: 5, offsetMinutes: 330))),
            ("since:2026-12-01", .since(.instant(year: 2026, month: 12, day: 1, hour: 0, minute: 0, second: 0, offsetMinutes: nil))),
            ("id:01a2", .id("01a2")),
            ("id:0190A4D2-7C1E", .id("0190a4d27c1e")),
            ("payload.to=ana@example.com", .payloadEquals(path: ["to"], value: "ana@example.com")),
            ("payload.order.id=123", .payloadEquals(path: ["order", "id"], value: "123")),
            ("payload?coupon", .payloadHas(path: ["coupon"])),
            ("payload.\"odd key\".x=\"a \\\"b\\\\\"", .payloadEquals(path: ["odd key", "x"], value: "a \"b\\")),
        ]
        for (text, predicate) in cases {
            #expect(try JobFilter.parse(text) == JobFilter([FilterTerm(predicate)]), "\(text)")
        }
    }

    @Test func termsCombineAndNegate() throws {
        let f = try JobFilter.parse("  type:send_campaign   tenant:shop-9 since:14:00 -state:dead ")
        #expect(f.terms == [
            FilterTerm(.type("send_campaign")), FilterTerm(.tenant("shop-9")),
            FilterTerm(.since(.clock(hour: 14, minute: 0, second: 0))), FilterTerm(.state(.dead), negated: true),
        ])
        #expect(f.description == "type:send_campaign tenant:shop-9 since:14:00 -state:dead")
        #expect(try JobFilter.parse("").isEmpty)
        #expect(try JobFilter.parse("queue:a queue:a").terms.count == 2)
    }

    @Test func printingIsCanonical() throws {
        #expect(try JobFilter.parse("STATE:Dead").description == "state:dead")
        #expect(try JobFilter.parse("age>90m").description == "age>90m")
        #expect(try JobFilter.parse("age>1h30m").description == "age>90m")
        #expect(try JobFilter.parse("age<120s").description == "age<2m")
        #expect(try JobFilter.parse("queue:\"emails\"").description == "queue:emails")
        #expect(try JobFilter.parse("queue:\"two words\"").description == "queue:\"two words\"")
        #expect(try JobFilter.parse("since:2026-12-01T10:00:00Z").description == "since:2026-12-01T10:00Z")
    }

    /// Every way to get a filter wrong: the message names the term and the column it starts at.
    @Test func everyErrorNamesTheBadTerm() {
        let cases: [(String, String)] = [
            ("qeue:emails", "unknown field 'qeue' at 1: did you mean queue?"),
            ("state:dead statu:x", "unknown field 'statu' at 12: did you mean state?"),
            ("zzzzzz:1", "unknown field 'zzzzzz' at 1: known fields are queue, type, state, tenant, key, error, worker, age, since, id, payload"),
            ("emails", "'emails' is not a term at 1: write field:value, as in queue:emails"),
            ("state:runing", "unknown state 'runing' at 7: did you mean running?"),
            ("state:zzzzzzzz", "unknown state 'zzzzzzzz' at 7: expected one of pending, scheduled, retrying, running, completed, cancelled, dead"),
            ("queue=emails", "queue needs ':' at 6: as in queue:emails"),
            ("queue:", "queue needs a value at 7: as in queue:emails"),
            ("queue:\"\"", "queue needs a value at 7: as in queue:emails"),
            ("error:\"smtp", "unterminated quote at 7"),
            ("error:\"a\\nb\"", "unknown escape '\\n' at 9: inside quotes only \\\" and \\\\ are escapes"),
            ("error:\"a\"b", "expected a space before 'b' at 10"),
            ("age:30m", "age needs > or < at 4: as in age>30m or age<2h"),
            ("age>30x", "'30x' is not a duration at 5: use a number and s, m, h, d or w, as in 30m or 1h30m"),
            ("age>m", "'m' is not a duration at 5: use a number and s, m, h, d or w, as in 30m or 1h30m"),
            ("age>99999999999w", "'99999999999w' is not a duration at 5: use a number and s, m, h, d or w, as in 30m or 1h30m"),
            ("since:25:00", "'25:00' is not a time at 7: use HH:MM, or a date as 2026-12-01 or 2026-12-01T10:00"),
            ("since:2026-02-30", "'2026-02-30' is not a time at 7: use HH:MM, or a date as 2026-12-01 or 2026-12-01T10:00"),
            ("since:yesterday", "'yesterday' is not a time at 7: use HH:MM, or a date as 2026-12-01 or 2026-12-01T10:00"),
            ("id:xyz1", "'xyz1' is not part of a job id at 4: give 3 to 32 hex digits"),
            ("id:ab", "'ab' is not part of a job id at 4: give 3 to 32 hex digits"),
            ("payload", "payload needs a path at 8: as in payload.to=ana@example.com or payload?coupon"),
            ("payload.=x", "expected a payload key at 9"),
            ("payload.to", "expected '=' after the payload path at 11: as in payload.to=VALUE"),
            ("payload.to=", "payload needs a value at 12: as in payload.to=ana@example.com"),
            ("payload?coupon=1", "payload?PATH only tests that a key is present at 15: to compare, write payload.PATH=VALUE"),
            ("- state:dead", "'-' must be followed by a term at 1: as in -state:dead"),
            ("-", "'-' must be followed by a term at 1: as in -state:dead"),
            (":x", "expected a field name, found ':' at 1: fields are queue, type, state, tenant, key, error, worker, age, since, id, payload"),
            ("queue:" + String(repeating: "q", count: 1001), "the value is longer than 1000 characters at 7"),
        ]
        for (text, message) in cases {
            #expect(throws: JobFilterError.self, "\(text)") { try JobFilter.parse(text) }
            do {
                _ = try JobFilter.parse(text)
            } catch {
                #expect(error.description == message, "\(text)")
            }
        }
    }

    /// print(parse(x)) parses back to the same filter, for many random filters.
    @Test func printedFiltersParseBackToTheSameFilter() throws {
        var generator = FilterGenerator(seed: 0x5eed_f17e)
        for _ in 0..<3000 {
            let filter = generator.filter()
            let text = filter.description
            let parsed = try JobFilter.parse(text)
            #expect(parsed == filter, "\(text)")
            #expect(parsed.description == text)
        }
    }
}

/// Random filters from a seeded generator (SplitMix64), so a failure reproduces.
struct FilterGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// Strings that stress quoting: spaces, quotes, backslashes, colons, dashes, unicode, control bytes.
    mutating func text() -> String {
        let alphabet: [Character] = ["a", "Z", "0", "9", "-", "_", ":", ".", "=", "?", "\"", "\\", " ", "\t", "é", "日", "\u{1b}", "@", ">", "<"]
        return String((0..<int(1...12)).map { _ in alphabet[int(0...(alphabet.count - 1))] })
    }

    mutating func hex() -> String {
        String((0..<int(3...32)).map { _ in Array("0123456789abcdef")[int(0...15)] })
    }

    mutating func path() -> [String] { (0..<int(1...4)).map { _ in text() } }

    mutating func since() -> SinceTime {
        if int(0...1) == 0 { return .clock(hour: int(0...23), minute: int(0...59), second: int(0...1) == 0 ? 0 : int(0...59)) }
        let offset: Int? = [nil, 0, int(-720...840)][int(0...2)]
        return .instant(year: int(1970...2100), month: int(1...12), day: int(1...28), hour: int(0...23),
                        minute: int(0...59), second: int(0...59), offsetMinutes: offset)
    }

    mutating func predicate() -> FilterPredicate {
        switch int(0...12) {
        case 0: .queue(text())
        case 1: .type(text())
        case 2: .state(JobState.allCases[int(0...(JobState.allCases.count - 1))])
        case 3: .tenant(text())
        case 4: .key(text())
        case 5: .error(text())
        case 6: .worker(text())
        case 7: .age(Comparison.allCases[int(0...3)], seconds: int(1...10_000_000))
        case 8: .since(since())
        case 9: .id(hex())
        case 10: .payloadEquals(path: path(), value: text())
        default: .payloadHas(path: path())
        }
    }

    mutating func filter() -> JobFilter {
        JobFilter((0..<int(0...6)).map { _ in FilterTerm(predicate(), negated: int(0...3) == 0) })
    }
}

/// A hand-written scanner over the filter's characters. Every error names the term (or the part
/// of it) at fault and the column where it starts.
struct JobFilterParser {
    private let chars: [Character]
    private var i = 0
    /// Longest value accepted: filters are typed by people; anything longer is a paste gone wrong.
    static let maxValueLength = 1000

    init(_ text: String) { chars = Array(text) }

    private var atEnd: Bool { i >= chars.count }
    private var current: Character? { atEnd ? nil : chars[i] }
    private var column: Int { i + 1 }

    mutating func parseFilter() throws(JobFilterError) -> JobFilter {
        var terms: [FilterTerm] = []
        while true {
            while let c = current, c.isWhitespace { i += 1 }
            if atEnd { break }
            terms.append(try parseTerm())
            if let c = current, !c.isWhitespace {
                throw JobFilterError("expected a space before '\(c)'", column: column)
            }
        }
        return JobFilter(terms)
    }

    private mutating func parseTerm() throws(JobFilterError) -> FilterTerm {
        let start = column
        var negated = false
        if current == "-" {
            negated = true
            i += 1
            guard let c = current, !c.isWhitespace else {
                throw JobFilterError("'-' must be followed by a term", hint: "as in -state:dead", column: start)
            }
        }
        let fieldStart = column
        var name = ""
        while let c = current, c.isASCII, c.isLetter || c.isNumber || c == "_" { name.append(c); i += 1 }
        guard !name.isEmpty else {
            throw JobFilterError("expected a field name, found '\(current.map(String.init) ?? "")'", hint: "fields are \(jobFilterFields.joined(separator: ", "))", column: fieldStart)
        }
        let lower = name.lowercased()
        guard jobFilterFields.contains(lower) else {
            if atEnd || current!.isWhitespace {
                throw JobFilterError("'\(name)' is not a term", hint: "write field:value, as in queue:\(name)", column: fieldStart)
            }
            let hint = closest(to: lower, among: jobFilterFields).map { "did you mean \($0)?" }
                ?? "known fields are \(jobFilterFields.joined(separator: ", "))"
            throw JobFilterError("unknown field '\(name)'", hint: hint, column: fieldStart)
        }
        let predicate = try parsePredicate(field: lower, fieldStart: fieldStart)
        _ = start
        return FilterTerm(predicate, negated: negated)
    }

    private mutating func parsePredicate(field: String, fieldStart: Int) throws(JobFilterError) -> FilterPredicate {
        switch field {
        case "payload": return try parsePayload(fieldStart: fieldStart)
        case "age":
            let opStart = column
            var op = ""
            if let c = current, c == ">" || c == "<" { op.append(c); i += 1 }
            if !op.isEmpty, current == "=" { op.append("="); i += 1 }
            guard let comparison = Comparison(rawValue: op) else {
                throw JobFilterError("age needs > or <", hint: "as in age>30m or age<2h", column: opStart)
            }
            let valueStart = column
            let text = try parseValue(field: field)
            guard let seconds = DurationText.parse(text) else {
                throw JobFilterError("'\(text)' is not a duration", hint: "use a number and s, m, h, d or w, as in 30m or 1h30m", column: valueStart)
            }
            return .age(comparison, seconds: seconds)
        default:
            guard current == ":" else {
                throw JobFilterError("\(field) needs ':'", hint: "as in \(field):\(Self.example(field))", column: column)
            }
            i += 1
            let valueStart = column
            let value = try parseValue(field: field)
            switch field {
            case "queue": return .queue(value)
            case "type": return .type(value)
            case "tenant": return .tenant(value)
            case "key": return .key(value)
            case "error": return .error(value)
            case "worker": return .worker(value)
            case "state":
                guard let state = JobState(rawValue: value.lowercased()) else {
                    let names = JobState.allCases.map(\.rawValue)
                    let hint = closest(to: value, among: names).map { "did you mean \($0)?" } ?? "expected one of \(names.joined(separator: ", "))"
                    throw JobFilterError("unknown state '\(value)'", hint: hint, column: valueStart)
                }
                return .state(state)
            case "since":
                guard let time = SinceParser.parse(value) else {
                    throw JobFilterError("'\(value)' is not a time", hint: "use HH:MM, or a date as 2026-12-01 or 2026-12-01T10:00", column: valueStart)
                }
                return .since(time)
            case "id":
                let hex = value.lowercased().filter { $0 != "-" }
                guard (3...32).contains(hex.count), hex.allSatisfy({ $0.isASCII && $0.isHexDigit }) else {
                    throw JobFilterError("'\(value)' is not part of a job id", hint: "give 3 to 32 hex digits", column: valueStart)
                }
                return .id(hex)
            default:
                throw JobFilterError("unknown field '\(field)'", column: fieldStart)
            }
        }
    }

    /// `payload.a.b=value` or `payload?a.b`.
    private mutating func parsePayload(fieldStart: Int) throws(JobFilterError) -> FilterPredicate {
        guard let c = current, c == "." || c == "?" else {
            throw JobFilterError("payload needs a path", hint: "as in payload.to=ana@example.com or payload?coupon", column: column)
        }
        i += 1
        let path = try parsePath()
        if c == "?" {
            if current == "=" {
                throw JobFilterError("payload?PATH only tests that a key is present", hint: "to compare, write payload.PATH=VALUE", column: column)
            }
            return .payloadHas(path: path)
        }
        guard current == "=" else {
            throw JobFilterError("expected '=' after the payload path", hint: "as in payload.\(path.map(FilterQuoting.segment).joined(separator: "."))=VALUE", column: column)
        }
        i += 1
        return .payloadEquals(path: path, value: try parseValue(field: "payload"))
    }

    private mutating func parsePath() throws(JobFilterError) -> [String] {
        var path: [String] = []
        while true {
            let segmentStart = column
            var segment = ""
            if current == "\"" {
                segment = try parseQuoted()
            } else {
                while let c = current, FilterQuoting.isBareSegmentCharacter(c) { segment.append(c); i += 1 }
            }
            guard !segment.isEmpty else {
                throw JobFilterError("expected a payload key", column: segmentStart)
            }
            path.append(segment)
            guard path.count <= 32 else { throw JobFilterError("a payload path has at most 32 keys", column: segmentStart) }
            guard current == "." else { return path }
            i += 1
        }
    }

    private mutating func parseValue(field: String) throws(JobFilterError) -> String {
        let start = column
        let value: String
        if current == "\"" {
            value = try parseQuoted()
        } else {
            var bare = ""
            while let c = current, !c.isWhitespace { bare.append(c); i += 1 }
            value = bare
        }
        guard !value.isEmpty else {
            throw JobFilterError("\(field) needs a value", hint: "as in \(field == "payload" ? "payload.to=ana@example.com" : "\(field):\(Self.example(field))")", column: start)
        }
        guard value.count <= Self.maxValueLength else {
            throw JobFilterError("the value is longer than \(Self.maxValueLength) characters", column: start)
        }
        return value
    }

    /// A double-quoted string; `\"` and `\\` are the only escapes.
    private mutating func parseQuoted() throws(JobFilterError) -> String {
        let start = column
        i += 1
        var out = ""
        while true {
            guard let c = current else { throw JobFilterError("unterminated quote", column: start) }
            i += 1
            if c == "\"" { return out }
            if c == "\\" {
                guard let next = current else { throw JobFilterError("unterminated quote", column: start) }
                guard next == "\"" || next == "\\" else {
                    throw JobFilterError("unknown escape '\\\(next)'", hint: "inside quotes only \\\" and \\\\ are escapes", column: column - 1)
                }
                out.append(next)
                i += 1
            } else {
                out.append(c)
            }
        }
    }

    static func example(_ field: String) -> String {
        switch field {
        case "queue": "emails"
        case "type": "send_email"
        case "state": "dead"
        case "tenant": "shop-9"
        case "key": "store:7"
        case "error": "\"smtp 550\""
        case "worker": "host-3"
        case "since": "14:00"
        case "id": "01a2"
        default: "VALUE"
        }
    }
}

/// `since:` values: `HH:MM[:SS]`, `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]`.
enum SinceParser {
    static func parse(_ text: String) -> SinceTime? {
        if let clock = clock(Substring(text)) { return .clock(hour: clock.0, minute: clock.1, second: clock.2) }
        let parts = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard date.count == 3, date[0].count == 4, date[1].count == 2, date[2].count == 2,
              let y = number(date[0]), let mo = number(date[1]), let d = number(date[2]),
              (1970...9999).contains(y), (1...12).contains(mo), (1...daysIn(mo, y)).contains(d) else { return nil }
        guard parts.count == 2 else {
            return .instant(year: y, month: mo, day: d, hour: 0, minute: 0, second: 0, offsetMinutes: nil)
        }
        var time = parts[1]
        var offset: Int?
        if time.hasSuffix("Z") {
            offset = 0
            time = time.dropLast()
        } else if let sign = time.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            guard let o = clock(time[time.index(after: sign)...]), o.2 == 0, o.0 <= 14 else { return nil }
            offset = (o.0 * 60 + o.1) * (time[sign] == "-" ? -1 : 1)
            time = time[..<sign]
        }
        guard let c = clock(time) else { return nil }
        return .instant(year: y, month: mo, day: d, hour: c.0, minute: c.1, second: c.2, offsetMinutes: offset)
    }

    private static func clock(_ text: Substring) -> (Int, Int, Int)? {
        let p = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(p.count), p.allSatisfy({ $0.count == 2 }),
              let h = number(p[0]), let m = number(p[1]), h < 24, m < 60 else { return nil }
        let s = p.count == 3 ? number(p[2]) : 0
        guard let s, s < 60 else { return nil }
        return (h, m, s)
    }

    private static func number(_ s: Substring) -> Int? {
        s.allSatisfy { $0.isASCII && $0.isNumber } ? Int(s) : nil
    }

    private static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A job filter: the one-line language typed after `/` on the jobs screen and given to
/// `queuetop jobs … --where`. Terms are ANDed by juxtaposition; `-term` negates one.
///
///     queue:emails state:dead error:"smtp 550" -tenant:shop-9 age>30m payload.to=ana@example.com
///
/// This module is pure: it parses (`JobFilter.parse`), prints the canonical text (`description`,
/// which parses back to an equal filter) and knows which terms an index can answer. Turning a
/// filter into SQL lives in QueueStore (`JobFilterSQL`), where every value becomes a bind
/// parameter.
public struct JobFilter: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var terms: [FilterTerm]

    public init(_ terms: [FilterTerm] = []) { self.terms = terms }

    /// Parses `text`; throws a `JobFilterError` naming the bad term and its column.
    public static func parse(_ text: String) throws(JobFilterError) -> JobFilter {
        var parser = JobFilterParser(text)
        return try parser.parseFilter()
    }

    /// The canonical text: terms separated by one space, values quoted only where they must be.
    public var description: String { terms.map(\.description).joined(separator: " ") }

    public var isEmpty: Bool { terms.isEmpty }

    /// The queue named by a positive `queue:` term, when exactly one is named.
    public var queue: String? {
        let names = terms.compactMap { term -> String? in
            if !term.negated, case .queue(let name) = term.predicate { return name }
            return nil
        }
        return names.count == 1 ? names[0] : nil
    }
}

/// One term: a predicate, possibly negated.
public struct FilterTerm: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var negated: Bool
    public var predicate: FilterPredicate

    public init(_ predicate: FilterPredicate, negated: Bool = false) {
        self.predicate = predicate
        self.negated = negated
    }

    public var description: String { (negated ? "-" : "") + predicate.description }
}

/// The states the jobs screen and `state:` know. `pending`, `scheduled` and `retrying` are all
/// `status = 'pending'` in the table, told apart by when they are due and whether they failed.
public enum JobState: String, CaseIterable, Equatable, Hashable, Sendable {
    case pending, scheduled, retrying, running, completed, cancelled, dead
}

/// A comparison for `age`: `age>30m` means created more than 30 minutes ago.
public enum Comparison: String, CaseIterable, Equatable, Hashable, Sendable {
    case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="
}

/// `since:` either a time of day (the most recent such clock time, in the operator's time zone)
/// or a date and time (in the operator's time zone unless it carries `Z` or an offset).
public enum SinceTime: Equatable, Hashable, Sendable, CustomStringConvertible {
    case clock(hour: Int, minute: Int, second: Int)
    /// `offsetMinutes` nil: local time.
    case instant(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, offsetMinutes: Int?)

    public var description: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        switch self {
        case .clock(let h, let m, let s):
            return "\(two(h)):\(two(m))" + (s == 0 ? "" : ":\(two(s))")
        case .instant(let y, let mo, let d, let h, let mi, let s, let offset):
            var text = "\(y)-\(two(mo))-\(two(d))T\(two(h)):\(two(mi))" + (s == 0 ? "" : ":\(two(s))")
            if let offset {
                if offset == 0 { text += "Z" } else {
                    let a = abs(offset)
                    text += (offset < 0 ? "-" : "+") + "\(two(a / 60)):\(two(a % 60))"
                }
            }
            return text
        }
    }
}

public enum FilterPredicate: Equatable, Hashable, Sendable, CustomStringConvertible {
    case queue(String)
    case type(String)
    case state(JobState)
    case tenant(String)
    /// The dedup key.
    case key(String)
    /// A case-insensitive substring of the error message or the error type.
    case error(String)
    /// The worker holding a running job: its id, or its host.
    case worker(String)
    /// Age since creation, in seconds.
    case age(Comparison, seconds: Int)
    case since(SinceTime)
    /// Lowercase ASCII hex digits (dashes dropped): a prefix or a suffix of the id (as `:job` reads a part).
    case id(String)
    /// The scalar at `path` of the payload, as text, equals `value` (`payload.order.id=123`
    /// matches the number 123 and the string "123").
    case payloadEquals(path: [String], value: String)
    /// The payload has `path` (any value, JSON null included).
    case payloadHas(path: [String])

    /// The field name as typed, for completion and messages.
    public var field: String {
        switch self {
        case .queue: "queue"
        case .type: "type"
        case .state: "state"
        case .tenant: "tenant"
        case .key: "key"
        case .error: "error"
        case .worker: "worker"
        case .age: "age"
        case .since: "since"
        case .id: "id"
        case .payloadEquals, .payloadHas: "payload"
        }
    }

    public var description: String {
        switch self {
        case .queue(let v): "queue:" + FilterQuoting.value(v)
        case .type(let v): "type:" + FilterQuoting.value(v)
        case .state(let s): "state:" + s.rawValue
        case .tenant(let v): "tenant:" + FilterQuoting.value(v)
        case .key(let v): "key:" + FilterQuoting.value(v)
        case .error(let v): "error:" + FilterQuoting.value(v)
        case .worker(let v): "worker:" + FilterQuoting.value(v)
        case .age(let c, let seconds): "age" + c.rawValue + DurationText.format(seconds)
        case .since(let t): "since:" + t.description
        case .id(let hex): "id:" + hex
        case .payloadEquals(let path, let value):
            "payload." + path.map(FilterQuoting.segment).joined(separator: ".") + "=" + FilterQuoting.value(value)
        case .payloadHas(let path): "payload?" + path.map(FilterQuoting.segment).joined(separator: ".")
        }
    }
}

/// Every field name the language knows, in the order completion offers them.
public let jobFilterFields = ["queue", "type", "state", "tenant", "key", "error", "worker", "age", "since", "id", "payload"]

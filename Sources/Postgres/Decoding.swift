import Foundation

/// A Swift type that can be read from a column's text value. NULL is handled by `Optional`.
public protocol PostgresDecodable: Sendable {
    static func decode(postgresText text: String, typeOID: UInt32) throws -> Self
}

/// Type OIDs from pg_type that decoding looks at.
enum PostgresType {
    static let bool: UInt32 = 16, int8: UInt32 = 20, int2: UInt32 = 21, int4: UInt32 = 23
    static let float4: UInt32 = 700, float8: UInt32 = 701, numeric: UInt32 = 1700
}

private func decodingError<T>(_ text: String, as type: T.Type) -> PostgresError {
    PostgresError(kind: .decoding, message: "cannot read \(String(text.prefix(60)).debugDescription) as \(T.self)")
}

extension String: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> String { text }
}

extension Int: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> Int {
        if let v = Int(text) { return v }
        // numeric/float results (e.g. avg(), sum() of bigint) decode when they are whole numbers.
        if let d = Double(text), d.rounded() == d, abs(d) < 9.2e18 { return Int(d) }
        throw decodingError(text, as: Int.self)
    }
}

extension Int64: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> Int64 {
        Int64(try Int.decode(postgresText: text, typeOID: typeOID))
    }
}

extension Int32: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> Int32 {
        guard let v = Int32(exactly: try Int.decode(postgresText: text, typeOID: typeOID)) else { throw decodingError(text, as: Int32.self) }
        return v
    }
}

extension Double: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> Double {
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let v = Double(text) else { throw decodingError(text, as: Double.self) }
            return v
        }
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> Bool {
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: throw decodingError(text, as: Bool.self)
        }
    }
}

extension UUID: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> UUID {
        guard let v = UUID(postgresText: text) else { throw decodingError(text, as: UUID.self) }
        return v
    }
}

extension Date: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> Date {
        guard let v = PostgresTimestamp.parse(text) else { throw decodingError(text, as: Date.self) }
        return v
    }
}

extension JSONText: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> JSONText { JSONText(text) }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> [Element] {
        try PostgresArrayLiteral.decode(text).map { element in
            guard let element else {
                throw PostgresError(kind: .decoding, message: "array has a NULL element; read it as [\(Element.self)?]")
            }
            return try Element.decode(postgresText: element, typeOID: 0)
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// A non-NULL value; NULL is handled before decoding is asked for.
    public static func decode(postgresText text: String, typeOID: UInt32) throws -> Wrapped? {
        try Wrapped.decode(postgresText: text, typeOID: typeOID)
    }
}

/// timestamptz in the session's time zone. Every connection sets `TimeZone = 'UTC'` so the
/// server prints "2026-11-22 02:31:00.123456+00".
public enum PostgresTimestamp {
    public static func format(_ date: Date) -> String {
        // Microsecond precision, explicit UTC offset: unambiguous whatever the session zone.
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let seconds = Int64((micros / 1_000_000).rounded(.down))
        let fraction = Int64(micros) - seconds * 1_000_000
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00",
                      Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), fraction)
    }

    public static func parse(_ text: String) -> Date? {
        // "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]" (also accepts 'T' and 'Z').
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var v = 0
            for b in bytes[start..<start + count] {
                guard b >= 48 && b <= 57 else { return nil }
                v = v * 10 + Int(b - 48)
            }
            return v
        }
        guard bytes.count >= 19, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else {
            if text == "infinity" { return .distantFuture }
            if text == "-infinity" { return .distantPast }
            return nil
        }
        var i = 19
        var fraction = 0.0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                fraction += Double(bytes[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offsetSeconds = 0
        if i < bytes.count {
            let sign: Int
            switch bytes[i] {
            case UInt8(ascii: "+"): sign = 1
            case UInt8(ascii: "-"): sign = -1
            case UInt8(ascii: "Z"): sign = 0
            default: return nil
            }
            if sign != 0 {
                guard let oh = number(i + 1, 2) else { return nil }
                var om = 0, os = 0
                if let m = number(i + 4, 2), bytes[i + 3] == UInt8(ascii: ":") { om = m }
                if let s = number(i + 7, 2), i + 6 < bytes.count, bytes[i + 6] == UInt8(ascii: ":") { os = s }
                offsetSeconds = sign * (oh * 3600 + om * 60 + os)
            }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let epoch = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds) + fraction
        return Date(timeIntervalSince1970: epoch)
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

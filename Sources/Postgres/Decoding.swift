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
    /// PostgreSQL's timestamptz range in seconds since 1970: 4714-11-24 BC to 294276-12-31 AD.
    /// A date outside it (or not finite) can never be stored.
    static let storableSeconds: ClosedRange<Double> = -210_866_803_200...9_224_318_015_999

    /// The text PostgreSQL reads back as `date`. A date outside timestamptz's range (or NaN)
    /// becomes a literal PostgreSQL refuses as out of range, so the statement fails with an error
    /// instead of this process trapping on the arithmetic.
    public static func format(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        guard t.isFinite, storableSeconds.contains(t) else {
            return t < 0 ? "999999-01-01 00:00:00+00 BC" : "999999-12-31 23:59:59+00"
        }
        // Microsecond precision, explicit UTC offset: unambiguous whatever the session zone.
        var seconds = Int64(t.rounded(.down))
        var fraction = Int64(((t - Double(seconds)) * 1_000_000).rounded())
        if fraction >= 1_000_000 { seconds += 1; fraction -= 1_000_000 }
        var tt = time_t(seconds)
        var parts = tm()
        gmtime_r(&tt, &parts)
        let year = Int(parts.tm_year) + 1900
        // Year 0 is 1 BC, -1 is 2 BC (proleptic Gregorian, as PostgreSQL prints it).
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", year > 0 ? year : 1 - year,
                      Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), fraction)
            + (year > 0 ? "" : " BC")
    }

    /// "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]][ BC]" (also 'T' and 'Z'), as PostgreSQL prints
    /// timestamptz: the year has 4 to 6 digits (PostgreSQL stores up to 294276). nil for anything
    /// else, including impossible fields; never traps, whatever the text.
    public static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var bytes = Array(text.utf8)
        var bc = false
        if bytes.count > 3, bytes.suffix(3).elementsEqual(" BC".utf8) { bc = true; bytes.removeLast(3) }
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start >= 0, start + count <= bytes.count else { return nil }
            var v = 0
            for b in bytes[start..<start + count] {
                guard b >= 48 && b <= 57 else { return nil }
                v = v * 10 + Int(b - 48)
            }
            return v
        }
        var yearDigits = 0
        while yearDigits < bytes.count, yearDigits <= 6, bytes[yearDigits] >= 48, bytes[yearDigits] <= 57 { yearDigits += 1 }
        guard (4...6).contains(yearDigits), bytes.count >= yearDigits + 15, let yearValue = number(0, yearDigits),
              bytes[yearDigits] == UInt8(ascii: "-"), bytes[yearDigits + 3] == UInt8(ascii: "-"),
              bytes[yearDigits + 6] == UInt8(ascii: " ") || bytes[yearDigits + 6] == UInt8(ascii: "T"),
              bytes[yearDigits + 9] == UInt8(ascii: ":"), bytes[yearDigits + 12] == UInt8(ascii: ":"),
              let month = number(yearDigits + 1, 2), let day = number(yearDigits + 4, 2),
              let hour = number(yearDigits + 7, 2), let minute = number(yearDigits + 10, 2),
              let second = number(yearDigits + 13, 2),
              (1...12).contains(month), (1...31).contains(day), hour <= 24, minute <= 59, second <= 60 else {
            return nil
        }
        let year = bc ? 1 - yearValue : yearValue
        var i = yearDigits + 15
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
            guard sign != 0 else { return i + 1 == bytes.count ? epoch(year, month, day, hour, minute, second, fraction, 0) : nil }
            guard let oh = number(i + 1, 2) else { return nil }
            var om = 0, os = 0
            i += 3
            if i < bytes.count, bytes[i] == UInt8(ascii: ":") {
                guard let m = number(i + 1, 2) else { return nil }
                om = m
                i += 3
                if i < bytes.count, bytes[i] == UInt8(ascii: ":") {
                    guard let s = number(i + 1, 2) else { return nil }
                    os = s
                    i += 3
                }
            }
            offsetSeconds = sign * (oh * 3600 + om * 60 + os)
        }
        guard i == bytes.count else { return nil }
        return epoch(year, month, day, hour, minute, second, fraction, offsetSeconds)
    }

    private static func epoch(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int,
                              _ fraction: Double, _ offsetSeconds: Int) -> Date {
        let days = daysFromCivil(year: year, month: month, day: day)
        let epoch = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds) + fraction
        return Date(timeIntervalSince1970: epoch)
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

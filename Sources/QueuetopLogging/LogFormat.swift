import Foundation
import Logging
import Postgres

/// How a log line is written. Every format puts one event on exactly one line: every value
/// goes through the output-safety rule (`SafeText`), so a newline, an ESC, a C1 control or a
/// bidi override inside a job type, a queue name or a handler's error can neither forge a line
/// nor reach a terminal raw.
public enum LogFormat: String, CaseIterable, Sendable {
    /// `TIME LEVEL message key=value ...`: for a person at a terminal.
    case text
    /// `time=... level=... msg="..." key=value ...` (quoted and escaped where needed).
    case logfmt
    /// One JSON object per line: `{"time":...,"level":...,"msg":...,"key":"value",...}`.
    case json

    public func render(_ record: LogRecord) -> String {
        switch self {
        case .text: return LogLine.text(record)
        case .logfmt: return LogLine.logfmt(record)
        case .json: return LogLine.json(record)
        }
    }
}

/// The three renderings. Hand-written: swift-log ships only a plain `StreamLogHandler` (no
/// levels filter per format, no escaping of values), and no library we could find escapes C1,
/// bidi and zero-width characters the way the rest of queuetop's output does.
enum LogLine {
    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: .current,
                                    formatOptions: [.withInternetDateTime, .withFractionalSeconds])
    }

    static func text(_ r: LogRecord) -> String {
        var line = "\(timestamp(r.time)) \(r.level.rawValue.uppercased()) \(SafeText.oneLine(r.message))"
        for (key, value) in r.fields { line += " \(logfmtKey(key))=\(logfmtValue(value))" }
        return line
    }

    static func logfmt(_ r: LogRecord) -> String {
        var line = "time=\(timestamp(r.time)) level=\(r.level.rawValue) msg=\(logfmtValue(r.message, alwaysQuote: true))"
        for (key, value) in r.fields { line += " \(logfmtKey(key))=\(logfmtValue(value))" }
        return line
    }

    static func json(_ r: LogRecord) -> String {
        var line = "{\"time\":\(jsonString(timestamp(r.time))),\"level\":\(jsonString(r.level.rawValue)),\"msg\":\(jsonString(r.message))"
        for (key, value) in r.fields { line += ",\(jsonString(key)):\(jsonString(value))" }
        return line + "}"
    }

    /// A logfmt key: only letters, digits and `_ . -`; anything else becomes `_` (keys are ours,
    /// but a metadata key is a string like any other).
    static func logfmtKey(_ key: String) -> String {
        let cleaned = String(String.UnicodeScalarView(key.unicodeScalars.map {
            ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0)) && $0.isASCII ? $0 : "_"
        }))
        return cleaned.isEmpty ? "_" : cleaned
    }

    /// A logfmt value: bare when it is plain, else in double quotes with `\` and `"` escaped and
    /// every unsafe scalar escaped by `SafeText.oneLine` (`\n`, `\x1b`, `\u202e`).
    static func logfmtValue(_ value: String, alwaysQuote: Bool = false) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy {
            $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && !SafeText.isUnsafe($0)
        }
        if plain && !alwaysQuote { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"" + SafeText.oneLine(escaped) + "\""
    }

    /// A JSON string literal: `"` and `\` escaped, C0 as `\n`/`\r`/`\t`/`\u00XX`, and DEL, C1,
    /// bidi, zero-width and line separators as `\uXXXX` (JSON allows those raw; we never print them).
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if SafeText.isUnsafe(scalar) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

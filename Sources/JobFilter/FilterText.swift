/// How values and payload path segments are written: bare when the lexer would read them back
/// unchanged, otherwise in double quotes with `\"` and `\\` escaped.
enum FilterQuoting {
    static func value(_ v: String) -> String {
        needsQuotes(v, bareAllowed: { _ in true }) ? quoted(v) : v
    }

    /// A path segment is bare only when it is letters, digits, `_` and `-`: a `.`, `=` or `?`
    /// would end it.
    static func segment(_ s: String) -> String {
        needsQuotes(s, bareAllowed: isBareSegmentCharacter) ? quoted(s) : s
    }

    static func isBareSegmentCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-")
    }

    private static func needsQuotes(_ v: String, bareAllowed: (Character) -> Bool) -> Bool {
        if v.isEmpty || v.first == "\"" { return true }
        return v.contains { $0.isWhitespace || $0 == "\"" || $0 == "\\" || !bareAllowed($0) || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }
    }

    static func quoted(_ v: String) -> String {
        var out = "\""
        for c in v {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }
}

/// Durations for `age`: `45s`, `30m`, `2h`, `7d`, `1w`, or a sum like `1h30m`. Printed in the
/// largest unit that divides them exactly.
public enum DurationText {
    static let units: [(Character, Int)] = [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
    /// 100 years: beyond it an age means nothing and the arithmetic could overflow.
    static let maximum = 100 * 365 * 86_400

    public static func format(_ seconds: Int) -> String {
        for (unit, size) in units where seconds % size == 0 && seconds != 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }

    /// nil when `text` is not a duration.
    public static func parse(_ text: String) -> Int? {
        var total = 0, digits = "", sawUnit = false
        for c in text {
            if c.isASCII && c.isNumber { digits.append(c); continue }
            guard let size = units.first(where: { $0.0 == c })?.1, let n = Int(digits), digits.count <= 9 else { return nil }
            total += n * size
            guard total <= maximum else { return nil }
            digits = ""
            sawUnit = true
        }
        return sawUnit && digits.isEmpty ? total : nil
    }
}

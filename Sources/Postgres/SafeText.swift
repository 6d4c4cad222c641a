/// The one output-safety rule for text that came from outside the program (job types, error
/// messages, worker ids, host names, server notices, anything read from the database) on its
/// way to a person: a terminal, a log line, the dashboard.
///
/// Unsafe scalars are the C0 controls (U+0000–U+001F), DEL and the C1 controls
/// (U+007F–U+009F), the bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
/// the zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and the Unicode line and
/// paragraph separators (U+2028, U+2029). Text shows each as a visible escape instead:
/// `\n`, `\r`, `\t`, `\xHH` for the other ASCII controls and `\uHHHH` for code points beyond
/// ASCII, so an ESC cannot start a terminal sequence, a newline cannot forge a log line and a
/// RIGHT-TO-LEFT OVERRIDE cannot reorder what is read. The dashboard, which draws one cell per
/// character, shows an unsafe character as `?` (`TerminalUI.DisplayWidth.sanitized`), decided
/// by the same `isUnsafe`.
///
/// It lives here, in the lowest module, because every printer imports Postgres: the CLI, the
/// worker logs, the dashboard and this module's own notices and errors.
public enum SafeText {
    /// True for a scalar that must never reach a terminal or a log raw.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x20 || (0x7F...0x9F).contains(v) { return true }
        if v < 0x061C { return false }
        switch v {
        case 0x061C, 0x200B...0x200F, 0x2028...0x202E, 0x2060, 0x2066...0x2069, 0xFEFF: return true
        default: return false
        }
    }

    /// A value inside one line (a table cell, a log message, an error message): every unsafe
    /// scalar escaped, newlines and tabs included, so the value stays on its line.
    public static func oneLine(_ text: some StringProtocol) -> String {
        escaping(text, keep: [])
    }

    /// A whole multi-line output the program composed itself (a report, a usage message): line
    /// breaks and tabs between its lines and columns stay; every other unsafe scalar is escaped.
    /// Values from outside must already have gone through `oneLine`, or they could add lines.
    public static func lines(_ text: some StringProtocol) -> String {
        escaping(text, keep: ["\n", "\t"])
    }

    /// JSON text (already valid JSON): the unsafe scalars that JSON allows raw inside strings
    /// (DEL, C1, bidi, zero-width, separators) become `\u` escapes, so the document means the
    /// same and shows no control. Whitespace between tokens is kept.
    public static func json(_ text: some StringProtocol) -> String {
        var out = String.UnicodeScalarView()
        var changed = false
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x7F, isUnsafe(scalar) {
                out.append(contentsOf: unicodeEscape(scalar).unicodeScalars)
                changed = true
            } else {
                out.append(scalar)
            }
        }
        return changed ? String(out) : String(text)
    }

    private static func escaping(_ text: some StringProtocol, keep: Set<Unicode.Scalar>) -> String {
        guard text.unicodeScalars.contains(where: { isUnsafe($0) && !keep.contains($0) }) else { return String(text) }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isUnsafe(scalar), !keep.contains(scalar) else { out.append(scalar); continue }
            let escape: String
            switch scalar {
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            default:
                if scalar.value < 0x80 {
                    let hex = String(scalar.value, radix: 16)
                    escape = "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    escape = unicodeEscape(scalar)
                }
            }
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    private static func unicodeEscape(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

import Postgres

/// How many terminal columns a character occupies: 0, 1 or 2.
///
/// Swift has no East-Asian-width property, so this is a compact table of the wide ranges
/// (CJK, Hangul, fullwidth forms) plus emoji presentation. It is deterministic on purpose:
/// snapshot tests must not depend on the host's `wcwidth` or locale. Where a terminal's own
/// table disagrees (rare emoji), the worst case is one misaligned row, never a crash.
public enum DisplayWidth {
    /// Columns taken by one grapheme cluster. Unsafe characters (controls, bidi, zero-width:
    /// `SafeText.isUnsafe`) count as 1 because `sanitized` turns them into a visible `?`
    /// before they are drawn.
    public static func of(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        if SafeText.isUnsafe(first) { return 1 }
        if isZeroWidth(first) { return 0 }
        if isWide(first) { return 2 }
        // A text-default emoji followed by VS16 (U+FE0F) is drawn wide by modern terminals.
        if character.unicodeScalars.count > 1,
           character.unicodeScalars.contains(where: { $0.value == 0xFE0F }),
           first.properties.isEmoji {
            return 2
        }
        return 1
    }

    /// Columns taken by a whole string.
    public static func of(_ text: some StringProtocol) -> Int {
        var total = 0
        for character in text { total += of(character) }
        return total
    }

    static func isZeroWidth(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return true
        default: return (0x1160...0x11FF).contains(scalar.value)
        }
    }

    static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x1100 { return false }
        if scalar.properties.isEmojiPresentation { return true }
        for range in wideRanges where range.contains(v) { return true }
        return false
    }

    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
        0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
        0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1B000...0x1B2FF, 0x1F200...0x1F2FF,
        0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    /// The character as it may safely be sent to a terminal. Job payloads and error messages
    /// are untrusted: an ESC in them must never reach the terminal as a control sequence, and a
    /// bidi or zero-width character must not reorder or hide what is shown. The rule is the
    /// CLI's (`SafeText.isUnsafe`); a cell shows `?` where a line of text shows an escape.
    public static func sanitized(_ character: Character) -> Character {
        guard let first = character.unicodeScalars.first else { return " " }
        if first == "\t" || first == "\n" || first == "\r" { return " " }
        if SafeText.isUnsafe(first) { return "?" }
        return character
    }
}

/// What a terminal can show, decided from plain values so the rules are testable without one.
/// The Curses module feeds it the locale codeset, `TERM`, `NO_COLOR` and `has_colors()`.
public struct TerminalProfile: Hashable, Sendable {
    public var usesColor: Bool
    public var prefersASCII: Bool

    public init(usesColor: Bool, prefersASCII: Bool) {
        self.usesColor = usesColor
        self.prefersASCII = prefersASCII
    }

    public var glyphs: GlyphSet { .select(ascii: prefersASCII) }

    /// ASCII unless the locale's codeset is UTF-8 and TERM names a real terminal. A `LANG=C`
    /// SSH session would otherwise print box-drawing bytes as mojibake.
    public static func prefersASCII(codeset: String?, term: String?) -> Bool {
        guard isUTF8(codeset: codeset) else { return true }
        let name = (term ?? "").lowercased()
        return name.isEmpty || name == "dumb" || name == "unknown" || name.hasPrefix("vt52")
    }

    /// Whether a locale codeset (`nl_langinfo(CODESET)`) is UTF-8, however it is spelled.
    public static func isUTF8(codeset: String?) -> Bool {
        (codeset ?? "").lowercased().filter { $0 != "-" && $0 != "_" } == "utf8"
    }

    /// Colour only when the terminal has it and the user did not opt out. Per no-color.org, a
    /// `NO_COLOR` that is present and non-empty disables colour, whatever its value.
    public static func usesColor(noColor: String?, hasColors: Bool, colorCount: Int) -> Bool {
        if let noColor, !noColor.isEmpty { return false }
        return hasColors && colorCount >= 8
    }
}

/// Every non-ASCII character the views draw, in one place, with an ASCII twin.
///
/// The caller picks the variant (Curses exposes `prefersASCII` from the locale codeset and
/// TERM), so a `LANG=C` session over SSH shows `+-|#` instead of mojibake.
public struct GlyphSet: Hashable, Sendable {
    public var horizontal: Character
    public var vertical: Character
    public var topLeft: Character
    public var topRight: Character
    public var bottomLeft: Character
    public var bottomRight: Character
    /// Drawn where text was cut short.
    public var ellipsis: Character
    public var bullet: Character
    /// Separates items in titles and status lines: "emails · 24h".
    public var separator: Character
    /// Marks a row chosen for a bulk action.
    public var mark: Character
    /// Points at the cursor row of a list, so the selection survives a monochrome terminal.
    public var cursor: Character
    /// Sparkline levels from lowest to highest.
    public var sparkLevels: [Character]
    /// Partial fills for the top cell of a vertical bar, lowest to full.
    public var barLevels: [Character]
    public var progressFilled: Character
    public var progressEmpty: Character
    public var arrowUp: Character
    public var arrowDown: Character
    public var isASCII: Bool

    public static let unicode = GlyphSet(
        horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘",
        ellipsis: "…", bullet: "•", separator: "·", mark: "•", cursor: "▸",
        sparkLevels: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        barLevels: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        progressFilled: "█", progressEmpty: "░", arrowUp: "▲", arrowDown: "▼", isASCII: false)

    public static let ascii = GlyphSet(
        horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        ellipsis: "~", bullet: "*", separator: "-", mark: "*", cursor: ">",
        sparkLevels: [".", "-", "=", "#"],
        barLevels: [".", "=", "#"],
        progressFilled: "#", progressEmpty: ".", arrowUp: "^", arrowDown: "v", isASCII: true)

    public static func select(ascii: Bool) -> GlyphSet { ascii ? .ascii : .unicode }
}

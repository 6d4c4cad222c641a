import CNCursesW
import TerminalUI

/// ncurses defines A_BOLD and friends through a function-like macro (NCURSES_BITS), which
/// Swift cannot import; these are the same values: 1 << (bit + NCURSES_ATTR_SHIFT(8)).
enum CursesAttributes {
    static let underline: attr_t = 1 << (9 + 8)
    static let reverse: attr_t = 1 << (10 + 8)
    static let dim: attr_t = 1 << (12 + 8)
    static let bold: attr_t = 1 << (13 + 8)

    static func from(_ attributes: TextAttributes) -> attr_t {
        var result: attr_t = 0
        if attributes.contains(.bold) { result |= bold }
        if attributes.contains(.reverse) { result |= reverse }
        if attributes.contains(.dim) { result |= dim }
        if attributes.contains(.underline) { result |= underline }
        return result
    }
}

/// Colour pairs allocated on first use, one per (foreground, background) combination the
/// theme actually produces — a dozen or so, well under the 64 pairs of an 8-colour terminal.
struct ColorPairs {
    private var pairs: [PairKey: Int16] = [:]
    private let defaultColorsAvailable: Bool
    private let maxPairs: Int

    private struct PairKey: Hashable {
        var foreground: TerminalColor
        var background: TerminalColor
    }

    init(defaultColorsAvailable: Bool, maxPairs: Int) {
        self.defaultColorsAvailable = defaultColorsAvailable
        self.maxPairs = maxPairs
    }

    /// The pair number for these colours; 0 (the terminal's default) when pairs run out.
    mutating func pair(foreground: TerminalColor, background: TerminalColor) -> Int16 {
        if foreground == .terminalDefault && background == .terminalDefault { return 0 }
        let key = PairKey(foreground: foreground, background: background)
        if let existing = pairs[key] { return existing }
        let number = pairs.count + 1
        guard number < maxPairs else { return 0 }
        // Without use_default_colors(), -1 is invalid: fall back to white on black.
        let fg = Int16(foreground == .terminalDefault ? (defaultColorsAvailable ? -1 : Int(COLOR_WHITE)) : foreground.rawValue)
        let bg = Int16(background == .terminalDefault ? (defaultColorsAvailable ? -1 : Int(COLOR_BLACK)) : background.rawValue)
        guard init_pair(Int16(number), fg, bg) != ERR else { return 0 }
        pairs[key] = Int16(number)
        return Int16(number)
    }
}

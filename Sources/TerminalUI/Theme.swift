/// The eight ANSI colours plus "whatever the terminal's default is". Curses maps these to
/// `COLOR_*`; using the default background keeps transparent tmux panes transparent.
public enum TerminalColor: Int, CaseIterable, Hashable, Sendable {
    case terminalDefault = -1
    case black = 0, red, green, yellow, blue, magenta, cyan, white
}

/// How one role looks: colours when the terminal has them, attributes when it does not.
public struct RolePalette: Hashable, Sendable {
    public var foreground: TerminalColor
    public var background: TerminalColor
    /// Extra attributes in colour mode (e.g. bold headers).
    public var attributes: TextAttributes
    /// The only distinction left under `NO_COLOR` or on a monochrome terminal.
    public var monochrome: TextAttributes

    public init(foreground: TerminalColor = .terminalDefault, background: TerminalColor = .terminalDefault,
                attributes: TextAttributes = [], monochrome: TextAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
        self.monochrome = monochrome
    }
}

/// A style resolved for one terminal: concrete colours and attributes.
public struct ResolvedStyle: Hashable, Sendable {
    public var foreground: TerminalColor
    public var background: TerminalColor
    public var attributes: TextAttributes

    public init(foreground: TerminalColor, background: TerminalColor, attributes: TextAttributes) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }
}

/// Maps semantic roles to colours. Pure data, so it can be tested and swapped.
public struct Theme: Hashable, Sendable {
    public var palettes: [ColorRole: RolePalette]

    public init(palettes: [ColorRole: RolePalette]) { self.palettes = palettes }

    public subscript(role: ColorRole) -> RolePalette { palettes[role] ?? RolePalette() }

    /// The default look: readable on dark and light backgrounds, no bright colours (which
    /// 8-colour terminals and `screen` render inconsistently).
    public static let standard = Theme(palettes: [
        .normal: RolePalette(),
        .header: RolePalette(foreground: .cyan, attributes: .bold, monochrome: .bold),
        .selected: RolePalette(foreground: .black, background: .cyan, monochrome: .reverse),
        .marked: RolePalette(foreground: .yellow, attributes: .bold, monochrome: .bold),
        .ok: RolePalette(foreground: .green),
        .warn: RolePalette(foreground: .yellow, background: .yellow, attributes: .bold, monochrome: .bold),
        .error: RolePalette(foreground: .red, background: .red, attributes: .bold, monochrome: [.bold, .reverse]),
        .muted: RolePalette(attributes: .dim, monochrome: .dim),
        .accent: RolePalette(foreground: .magenta),
        .bar: RolePalette(foreground: .green),
        .border: RolePalette(foreground: .blue),
        .title: RolePalette(foreground: .cyan, attributes: .bold, monochrome: .bold),
    ])

    /// Concrete colours and attributes for `style`. With `colors == false` every role
    /// collapses to attributes, which is what `NO_COLOR` asks for.
    public func resolve(_ style: Style, colors: Bool) -> ResolvedStyle {
        let fg = self[style.foreground]
        let hasBackground = style.background != .normal
        let bg = self[style.background]
        guard colors else {
            var attributes = style.attributes.union(fg.monochrome)
            if hasBackground { attributes.formUnion(bg.monochrome) }
            return ResolvedStyle(foreground: .terminalDefault, background: .terminalDefault, attributes: attributes)
        }
        var foreground = fg.foreground
        // Text on a coloured background needs the background role's own foreground to stay
        // readable (black on cyan for the selected row), unless the text has a role of its own.
        if hasBackground && (style.foreground == .normal || style.foreground == style.background) {
            foreground = bg.foreground
        }
        if hasBackground && foreground == bg.background { foreground = Self.contrasting(bg.background) }
        let background: TerminalColor = hasBackground ? bg.background : .terminalDefault
        return ResolvedStyle(foreground: foreground, background: background,
                             attributes: style.attributes.union(fg.attributes))
    }

    /// A text colour that stays legible on `background` (white on red, black on yellow).
    static func contrasting(_ background: TerminalColor) -> TerminalColor {
        switch background {
        case .red, .blue, .magenta, .black: return .white
        default: return .black
        }
    }
}

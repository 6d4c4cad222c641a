/// What a piece of text *means*; the `Theme` decides how that looks on a given terminal.
///
/// Widgets only ever speak in roles so the same view renders correctly in colour, in
/// monochrome (`NO_COLOR`) and in snapshot tests where colour is invisible.
public enum ColorRole: String, CaseIterable, Sendable, Hashable {
    case normal, header, selected, marked, ok, warn, error, muted, accent, bar, border, title
}

/// Text attributes that work on every terminal, colour or not.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = TextAttributes(rawValue: 1 << 0)
    public static let reverse = TextAttributes(rawValue: 1 << 1)
    public static let dim = TextAttributes(rawValue: 1 << 2)
    public static let underline = TextAttributes(rawValue: 1 << 3)
}

/// The look of one cell: a foreground role, a background role and attributes.
public struct Style: Hashable, Sendable {
    public var foreground: ColorRole
    public var background: ColorRole
    public var attributes: TextAttributes

    public init(foreground: ColorRole = .normal, background: ColorRole = .normal,
                attributes: TextAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    /// A style whose foreground is `role`, on the default background.
    public static func role(_ role: ColorRole, _ attributes: TextAttributes = []) -> Style {
        Style(foreground: role, attributes: attributes)
    }

    public static let normal = Style()
    public static let header = Style(foreground: .header, attributes: .bold)
    /// The cursor row of a list: a background role, so the whole row lights up.
    public static let selected = Style(foreground: .selected, background: .selected)
    public static let muted = Style(foreground: .muted)
    public static let ok = Style(foreground: .ok)
    public static let warn = Style(foreground: .warn, attributes: .bold)
    public static let error = Style(foreground: .error, attributes: .bold)
    public static let accent = Style(foreground: .accent)
    public static let border = Style(foreground: .border)
    public static let title = Style(foreground: .title, attributes: .bold)

    public func adding(_ extra: TextAttributes) -> Style {
        var copy = self
        copy.attributes.formUnion(extra)
        return copy
    }
}

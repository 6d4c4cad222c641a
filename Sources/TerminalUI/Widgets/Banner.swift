/// One full-width line that must not be missed: "disconnected — retrying in 4s".
public struct Banner: Sendable {
    public enum Level: Sendable, Hashable {
        case info, warn, error
    }

    public var text: String
    public var level: Level

    public init(_ text: String, level: Level = .error) {
        self.text = text
        self.level = level
    }

    var style: Style {
        switch level {
        case .info: return Style(foreground: .selected, background: .selected)
        case .warn: return Style(foreground: .warn, background: .warn, attributes: .bold)
        case .error: return Style(foreground: .error, background: .error, attributes: .bold)
        }
    }

    /// Draws into the first row of `rect`. The "!" prefix keeps the urgency visible on a
    /// monochrome terminal and in text dumps.
    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let prefix = level == .info ? " " : " ! "
        buffer.write(prefix + text, in: rect.row(0), alignment: .left, style: style)
    }
}

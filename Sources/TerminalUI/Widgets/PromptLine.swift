/// The one-line editor for `/` filters and `:` commands: `:pause ema▌`.
///
/// The hardware cursor stays hidden (it flickers over slow links), so the cursor is a reversed
/// cell. When the text is wider than the row, its start scrolls out of view so the end, where
/// the operator is typing, stays visible.
public struct PromptLine: Sendable {
    public var prompt: String
    public var text: String
    /// Shown, dimmed, while `text` is empty ("filter by name or error").
    public var placeholder: String

    public init(prompt: String, text: String, placeholder: String = "") {
        self.prompt = prompt
        self.text = text
        self.placeholder = placeholder
    }

    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let row = rect.row(0)
        buffer.fill(row)
        var x = row.x + buffer.write(prompt, at: Point(x: row.x, y: row.y), style: .role(.accent, .bold),
                                     maxWidth: row.width)
        let room = row.maxX - x - 1  // one cell for the cursor
        guard room >= 0 else { return }
        if text.isEmpty {
            buffer.put(" ", x: x, y: row.y, style: Style(attributes: .reverse))
            buffer.write(placeholder, at: Point(x: x + 1, y: row.y), style: .muted, maxWidth: room)
            return
        }
        var visible = Substring(text)
        while DisplayWidth.of(visible) > room, !visible.isEmpty { visible = visible.dropFirst() }
        x += buffer.write(String(visible), at: Point(x: x, y: row.y), maxWidth: room)
        buffer.put(" ", x: x, y: row.y, style: Style(attributes: .reverse))
    }
}

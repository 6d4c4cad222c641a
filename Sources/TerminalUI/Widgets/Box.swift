/// A frame with an optional title in its top border: `┌─ Queues ───┐`.
public struct Box: Sendable {
    public var title: String?
    public var borderStyle: Style
    public var titleStyle: Style

    public init(title: String? = nil, borderStyle: Style = .border, titleStyle: Style = .title) {
        self.title = title
        self.borderStyle = borderStyle
        self.titleStyle = titleStyle
    }

    /// Draws the frame and returns the area inside it. A rect too small for a frame gets no
    /// frame, and the whole rect is returned so the content still shows.
    @discardableResult
    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) -> Rect {
        guard rect.width >= 2, rect.height >= 2 else { return rect }
        let g = buffer.glyphs
        let top = rect.y, bottom = rect.maxY - 1, left = rect.x, right = rect.maxX - 1
        for x in (left + 1)..<right {
            buffer.put(g.horizontal, x: x, y: top, style: borderStyle)
            buffer.put(g.horizontal, x: x, y: bottom, style: borderStyle)
        }
        for y in (top + 1)..<bottom {
            buffer.put(g.vertical, x: left, y: y, style: borderStyle)
            buffer.put(g.vertical, x: right, y: y, style: borderStyle)
        }
        buffer.put(g.topLeft, x: left, y: top, style: borderStyle)
        buffer.put(g.topRight, x: right, y: top, style: borderStyle)
        buffer.put(g.bottomLeft, x: left, y: bottom, style: borderStyle)
        buffer.put(g.bottomRight, x: right, y: bottom, style: borderStyle)
        if let title, !title.isEmpty, rect.width >= 5 {
            // "─ Title ─": one border cell, a space each side, at least one border cell after.
            buffer.write(" " + title + " ", at: Point(x: left + 1, y: top), style: titleStyle,
                         maxWidth: rect.width - 3)
        }
        return rect.inset(dx: 1, dy: 1)
    }
}

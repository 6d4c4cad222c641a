/// One answer in a dialog: `[y] Yes`.
public struct DialogButton: Sendable, Hashable {
    public var key: String
    public var label: String

    public init(key: String, label: String) {
        self.key = key
        self.label = label
    }

    public var text: String { "[\(key)] \(label)" }

    public static let yes = DialogButton(key: "y", label: "Yes")
    public static let no = DialogButton(key: "n", label: "No")
}

/// A centred confirmation box: title, wrapped body, buttons.
///
/// The buttons are the last thing to give up space: on a 20x5 terminal an operator must still
/// see how to answer, so the body is cut (with an ellipsis) before the buttons are.
public struct Dialog: Sendable {
    public var title: String
    public var body: [String]
    public var buttons: [DialogButton]
    public var style: Style
    /// Widest the box gets on a large screen, so long messages wrap into a readable column.
    public var maxWidth: Int

    public init(title: String, body: [String], buttons: [DialogButton] = [.yes, .no],
                style: Style = .warn, maxWidth: Int = 60) {
        self.title = title
        self.body = body
        self.buttons = buttons
        self.style = style
        self.maxWidth = maxWidth
    }

    public var buttonLine: String { buttons.map(\.text).joined(separator: "  ") }

    /// The rectangle the dialog occupies inside `screen`.
    public func frame(in screen: Rect) -> Rect {
        let contentWidth = max(DisplayWidth.of(title) + 2, DisplayWidth.of(buttonLine),
                               body.map { DisplayWidth.of($0) }.max() ?? 0)
        let width = min(min(contentWidth, maxWidth) + 4, screen.width)
        let lines = wrappedBody(width: width - 4)
        // Border, a blank line above the buttons, the buttons, border.
        let height = min(lines.count + 4, screen.height)
        return screen.centered(width: width, height: height)
    }

    func wrappedBody(width: Int) -> [String] {
        body.flatMap { line in line.isEmpty ? [""] : TextWrap.wrap(line, width: max(1, width)) }
    }

    public func draw(into buffer: inout ScreenBuffer, in screen: Rect) {
        let box = frame(in: screen)
        guard !box.isEmpty else { return }
        buffer.fill(box)
        let framed = box.width >= 4 && box.height >= 3
        let inner = framed
            ? Box(title: title, borderStyle: style, titleStyle: style).draw(into: &buffer, in: box).inset(dx: 1, dy: 0)
            : box
        guard !inner.isEmpty else { return }
        let buttonRow = inner.maxY - 1
        buffer.write(buttonLine, in: Rect(x: inner.x, y: buttonRow, width: inner.width, height: 1),
                     alignment: .center, style: .role(.accent, .bold))
        // Without a frame the title has nowhere else to go; it takes the first row if there is one.
        var lines = wrappedBody(width: inner.width)
        if !framed { lines.insert(title, at: 0) }
        // A blank row above the buttons only when the whole body fits with it; on a small
        // screen that row is worth more as text.
        let bodyRows = lines.count <= inner.height - 2 ? lines.count : max(0, inner.height - 1)
        guard bodyRows > 0 else { return }
        if lines.count > bodyRows {
            lines = Array(lines.prefix(bodyRows))
            let last = lines[bodyRows - 1]
            let ellipsis = buffer.glyphs.ellipsis
            lines[bodyRows - 1] = DisplayWidth.of(last) < inner.width
                ? last + String(ellipsis)
                : ScreenBuffer.truncate(last + String(ellipsis), toWidth: inner.width, ellipsis: ellipsis)
        }
        for (i, line) in lines.enumerated() {
            buffer.write(line, in: Rect(x: inner.x, y: inner.y + i, width: inner.width, height: 1))
        }
    }
}

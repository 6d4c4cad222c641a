/// What the dashboard shows below 20x5: the sizes it needs and has, and how to leave.
/// Drawing it must work at any size down to 0x0, so it only writes what fits.
public enum TooSmallScreen {
    public static func draw(into buffer: inout ScreenBuffer) {
        buffer.clear()
        let w = buffer.width, h = buffer.height
        guard w > 0, h > 0 else { return }
        let candidates = [
            "Terminal too small",
            "need \(Layout.minimumWidth)x\(Layout.minimumHeight), have \(w)x\(h)",
            "Q quits",
        ]
        // Wrapping into a handful of columns makes letter soup; below 10 columns each line is
        // cut short instead, so even 1x1 shows an ellipsis rather than a stray letter.
        var lines: [String] = []
        for text in candidates {
            lines += w >= 10 ? TextWrap.wrap(text, width: w) : [ScreenBuffer.truncate(text, toWidth: w, ellipsis: buffer.glyphs.ellipsis)]
        }
        let shown = Array(lines.prefix(h))
        let top = (h - shown.count) / 2
        for (i, line) in shown.enumerated() {
            buffer.write(line, in: Rect(x: 0, y: top + i, width: w, height: 1), alignment: .center,
                         style: i == 0 ? .warn : .normal)
        }
    }
}

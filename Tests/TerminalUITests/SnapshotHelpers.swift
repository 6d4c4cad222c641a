import TerminalUI
import TestSupport

/// A fresh buffer of the given size after `draw` ran on it.
func render(_ width: Int, _ height: Int, ascii: Bool = false, _ draw: (inout ScreenBuffer) -> Void) -> ScreenBuffer {
    var buffer = ScreenBuffer(width: width, height: height, glyphs: .select(ascii: ascii))
    draw(&buffer)
    return buffer
}

/// Compares the whole screen, as text, with `Snapshots/<name>.txt`. The first line of the golden
/// names the size and glyph set, so a reviewer knows what terminal the text stands for.
func assertScreen(_ buffer: ScreenBuffer, named name: String, filePath: StaticString = #filePath) throws {
    let header = "# \(buffer.width)x\(buffer.height) \(buffer.glyphs.isASCII ? "ascii" : "unicode")\n"
    try Snapshot.verify(header + buffer.plainText(), named: name, filePath: filePath)
}

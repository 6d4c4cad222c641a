import Testing
import TerminalUI

@Suite struct ScreenBufferTests {
    @Test func writeClipsAtTheRightEdgeWithAnEllipsis() {
        var buffer = ScreenBuffer(width: 10, height: 1)
        let written = buffer.write("connection refused", at: Point(x: 2, y: 0))
        #expect(written == 8)
        #expect(buffer.plainText() == "  connect…")
    }

    @Test func maxWidthTruncatesAndAsciiUsesTilde() {
        var buffer = ScreenBuffer(width: 20, height: 1, glyphs: .ascii)
        buffer.write("timeout after 30s", at: Point(x: 0, y: 0), maxWidth: 8)
        #expect(buffer.plainText() == "timeout~")
    }

    @Test func textThatFitsIsNotTruncated() {
        var buffer = ScreenBuffer(width: 5, height: 1)
        buffer.write("hello", at: Point(x: 0, y: 0))
        #expect(buffer.plainText() == "hello")
    }

    @Test func writesOutsideTheBufferAreIgnored() {
        var buffer = ScreenBuffer(width: 4, height: 2)
        buffer.write("x", at: Point(x: 0, y: 5))
        buffer.write("y", at: Point(x: 9, y: 0))
        buffer.write("abcdef", at: Point(x: -2, y: 1))
        #expect(buffer.plainText() == "\ncdef")
    }

    @Test func wideCharactersTakeTwoCells() {
        var buffer = ScreenBuffer(width: 10, height: 1)
        let written = buffer.write("日本語", at: Point(x: 0, y: 0))
        #expect(written == 6)
        #expect(buffer[0, 0].character == "日")
        #expect(buffer[1, 0].isContinuation)
        #expect(buffer.plainText() == "日本語")
    }

    @Test func wideCharacterThatWouldStraddleTheEdgeIsCut() {
        var buffer = ScreenBuffer(width: 5, height: 1)
        buffer.write("日本語", at: Point(x: 0, y: 0))
        // 2 + 2 columns, then 1 left: the ellipsis, never half a glyph.
        #expect(buffer.plainText() == "日本…")
        var narrow = ScreenBuffer(width: 3, height: 1)
        narrow.put("日", x: 2, y: 0)
        #expect(!narrow[2, 0].isContinuation)
        #expect(narrow.plainText() == "")
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var buffer = ScreenBuffer(width: 6, height: 1)
        buffer.write("日本", at: Point(x: 0, y: 0))
        buffer.put("x", x: 1, y: 0)  // the right half of 日
        #expect(buffer.plainText() == " x本")
        buffer.put("y", x: 2, y: 0)  // the left half of 本
        #expect(buffer.plainText() == " xy")
        #expect(!buffer[3, 0].isContinuation)
    }

    @Test func emojiAndCombiningMarks() {
        var buffer = ScreenBuffer(width: 10, height: 1)
        let written = buffer.write("🔥e\u{301}!", at: Point(x: 0, y: 0))
        #expect(written == 4)
        #expect(buffer.plainText() == "🔥e\u{301}!")
    }

    @Test func controlCharactersNeverReachTheTerminal() {
        var buffer = ScreenBuffer(width: 20, height: 1)
        buffer.write("a\u{1B}[2Jb\tc\nd", at: Point(x: 0, y: 0))
        #expect(buffer.plainText() == "a?[2Jb c d")
    }

    /// The CLI's rule (SafeText.isUnsafe), drawn one cell per character: C1, bidi and zero-width
    /// characters are a visible `?` too, never sent to the terminal.
    @Test func c1BidiAndZeroWidthCharactersAreAVisibleQuestionMark() {
        var buffer = ScreenBuffer(width: 20, height: 1)
        buffer.write("a\u{9B}31mb\u{202E}c\u{200B}d\u{2066}e\u{FEFF}", at: Point(x: 0, y: 0))
        #expect(buffer.plainText() == "a?31mb?c?d?e?")
        #expect(DisplayWidth.of("\u{202E}x") == 2)
    }

    @Test func truncateMeasuresDisplayWidth() {
        #expect(ScreenBuffer.truncate("日本語テキスト", toWidth: 7) == "日本語…")
        #expect(ScreenBuffer.truncate("abc", toWidth: 0) == "")
        #expect(ScreenBuffer.truncate("abcdef", toWidth: 1) == "…")
    }

    @Test func alignedWriteInARow() {
        var buffer = ScreenBuffer(width: 10, height: 3)
        buffer.write("42", in: Rect(x: 0, y: 0, width: 10, height: 1), alignment: .right)
        buffer.write("mid", in: Rect(x: 0, y: 1, width: 10, height: 1), alignment: .center)
        buffer.write("left", in: Rect(x: 0, y: 2, width: 10, height: 1))
        #expect(buffer.plainText() == "        42\n   mid\nleft")
    }

    @Test func plainTextTrimsTrailingSpacesButKeepsEveryRow() {
        var buffer = ScreenBuffer(width: 4, height: 3)
        buffer.write("ab  ", at: Point(x: 0, y: 1))
        #expect(buffer.plainText() == "\nab\n")
    }

    @Test func diffListsOnlyChangedCells() {
        var before = ScreenBuffer(width: 5, height: 2)
        before.write("hello", at: Point(x: 0, y: 0))
        var after = before
        #expect(after.diff(from: before).isEmpty)
        after.write("J", at: Point(x: 0, y: 0))
        after.applyStyle(.error, to: Rect(x: 4, y: 1, width: 1, height: 1))
        let changes = after.diff(from: before)
        #expect(changes.map { Point(x: $0.x, y: $0.y) } == [Point(x: 0, y: 0), Point(x: 4, y: 1)])
        #expect(changes[0].cell.character == "J")
    }

    @Test func diffAgainstAnotherSizeIsEverything() {
        let small = ScreenBuffer(width: 2, height: 2)
        let large = ScreenBuffer(width: 3, height: 2)
        #expect(large.diff(from: small).count == 6)
    }

    @Test func fillClipsAndDegenerateBuffersAreSafe() {
        var buffer = ScreenBuffer(width: 3, height: 2)
        buffer.fill(Rect(x: -5, y: -5, width: 100, height: 100), with: "#")
        #expect(buffer.plainText() == "###\n###")
        var empty = ScreenBuffer(width: 0, height: 0)
        empty.write("x", at: Point(x: 0, y: 0))
        empty.fill(empty.bounds, with: "#")
        #expect(empty.plainText() == "")
    }

    @Test func displayWidthTable() {
        #expect(DisplayWidth.of("a") == 1)
        #expect(DisplayWidth.of("é") == 1)
        #expect(DisplayWidth.of("日") == 2)
        #expect(DisplayWidth.of("한") == 2)
        #expect(DisplayWidth.of("Ａ") == 2)
        #expect(DisplayWidth.of("🚀") == 2)
        #expect(DisplayWidth.of("─") == 1)
        #expect(DisplayWidth.of("\u{200B}") == 1)  // unsafe (zero-width): drawn as a visible "?"
        #expect(DisplayWidth.of("queue 日本") == 10)
    }
}

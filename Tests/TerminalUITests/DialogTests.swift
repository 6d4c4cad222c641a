import Testing
import TerminalUI

@Suite struct DialogTests {
    static let requeue = Dialog(
        title: "Requeue 412 jobs?",
        body: ["Queue emails, error type SMTPTimeout.", "All 412 dead-letter jobs go back to pending with their attempts kept."],
        buttons: [.yes, .no])

    /// The dialog over a busy background, so the test also shows it clears what it covers.
    static func screen(_ width: Int, _ height: Int, ascii: Bool = false) -> ScreenBuffer {
        render(width, height, ascii: ascii) { buffer in
            for y in 0..<height { buffer.write(String(repeating: "x", count: width), at: Point(x: 0, y: y)) }
            requeue.draw(into: &buffer, in: buffer.bounds)
        }
    }

    @Test func confirmationAt80x24() throws {
        try assertScreen(Self.screen(80, 24), named: "dialog-requeue-80x24")
    }

    @Test func confirmationAt20x5KeepsTheButtons() throws {
        let buffer = Self.screen(20, 5)
        try assertScreen(buffer, named: "dialog-requeue-20x5")
        #expect(buffer.plainText().contains("[y] Yes  [n] No"))
    }

    @Test func asciiDialog() throws {
        try assertScreen(Self.screen(50, 12, ascii: true), named: "dialog-requeue-ascii-50x12")
    }

    @Test func dialogWithoutRoomForAFrame() {
        let buffer = render(16, 2) { Self.requeue.draw(into: &$0, in: $0.bounds) }
        #expect(buffer.line(1) == "[y] Yes  [n] No")
        #expect(buffer.line(0) == "Requeue 412 job…")
        for (w, h) in [(0, 0), (1, 1), (3, 2), (5, 3)] {
            _ = render(w, h) { Self.requeue.draw(into: &$0, in: $0.bounds) }
        }
    }
}

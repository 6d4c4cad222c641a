import Foundation
import Testing
import TerminalUI

/// `y`: the OSC 52 sequence carries any text, hostile bytes included, as base64 only; and the
/// terminals known to drop it get the text in the footer instead of a false "copied".
@Suite struct ClipboardTests {
    let plain = Clipboard.Environment(term: "xterm-256color", insideTmux: false, tmuxSetClipboard: nil, insideScreen: false)

    @Test func hostileTextTravelsAsBase64Only() {
        let hostile = "id\u{1B}]52;c;ZXZpbA==\u{07}\u{1B}[2J\u{9B}31m\u{0}日本"
        let bytes = Clipboard.osc52(hostile)
        #expect(Array(bytes.prefix(7)) == Array("\u{1B}]52;c;".utf8))
        #expect(bytes.last == 0x07)
        let body = bytes.dropFirst(7).dropLast()
        // Nothing between the opening and the BEL but the base64 alphabet: no ESC, BEL, C1, NUL.
        #expect(body.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2F || $0 == 0x3D })
        #expect(Data(base64Encoded: Data(body)).map { String(decoding: $0, as: UTF8.self) } == hostile)
    }

    @Test func whereOSC52GoesNowhereTheFooterSaysSoAndShowsTheText() {
        #expect(Clipboard.refusal(bytes: 36, in: plain) == nil)
        for (env, why) in [
            (Clipboard.Environment(term: "tmux-256color", insideTmux: true, tmuxSetClipboard: "external", insideScreen: false), "set-clipboard on"),
            (Clipboard.Environment(term: "tmux-256color", insideTmux: true, tmuxSetClipboard: nil, insideScreen: false), "unknown"),
            (Clipboard.Environment(term: "screen", insideTmux: false, tmuxSetClipboard: nil, insideScreen: true), "GNU screen"),
            (Clipboard.Environment(term: "linux", insideTmux: false, tmuxSetClipboard: nil, insideScreen: false), "TERM=linux"),
        ] {
            let refusal = Clipboard.refusal(bytes: 36, in: env)
            let line = Clipboard.report(what: "job id", text: "0193a1b2-7c1e-7a2b-9f00-000000000007", refusal: refusal)
            #expect(line.contains(why) && line.hasSuffix("job id: 0193a1b2-7c1e-7a2b-9f00-000000000007"), "\(line)")
        }
        let tmuxOn = Clipboard.Environment(term: "tmux-256color", insideTmux: true, tmuxSetClipboard: "on", insideScreen: false)
        #expect(Clipboard.refusal(bytes: 36, in: tmuxOn) == nil)
        #expect(Clipboard.report(what: "job id", text: "x", refusal: nil) == "copied job id to the clipboard (OSC 52)")
        // Longer than terminals take: refused rather than silently dropped by the terminal.
        #expect(Clipboard.refusal(bytes: Clipboard.maximumBytes + 1, in: plain) == .tooLong(bytes: Clipboard.maximumBytes + 1))
        // The refused text is shown on one line, control characters escaped.
        let shown = Clipboard.report(what: "payload", text: "{\"a\":\n\"\u{1B}[31m\"}", refusal: .terminal("no"))
        #expect(!shown.contains("\u{1B}") && !shown.contains("\n"))
    }
}

import Postgres
import Testing

/// The one output-safety rule (docs/RELIABILITY.md, "Output safety").
@Suite struct SafeTextTests {
    @Test func oneLineEscapesEveryControlBidiAndZeroWidthCharacter() {
        #expect(SafeText.oneLine("a\u{1B}]0;pwned\u{07}b") == "a\\x1b]0;pwned\\x07b")
        #expect(SafeText.oneLine("x\u{9B}31m\u{85}\u{7F}") == "x\\u009b31m\\u0085\\x7f")
        #expect(SafeText.oneLine("\u{202E}\u{2066}\u{200E}\u{061C}\u{200B}\u{200D}\u{2060}\u{FEFF}\u{2028}")
                == "\\u202e\\u2066\\u200e\\u061c\\u200b\\u200d\\u2060\\ufeff\\u2028")
        #expect(SafeText.oneLine("line\n2026-12-02T00:00:00Z ERROR forged\r\tx") == "line\\n2026-12-02T00:00:00Z ERROR forged\\r\\tx")
        #expect(SafeText.oneLine("plain, ünïcödé 日本 🔥 e\u{301}") == "plain, ünïcödé 日本 🔥 e\u{301}")
    }

    @Test func linesKeepsLineBreaksAndTabsOnly() {
        #expect(SafeText.lines("a\tb\nc\u{1B}[2J\r") == "a\tb\nc\\x1b[2J\\r")
    }

    @Test func jsonEscapesWhatJSONAllowsRawAndStaysTheSameDocument() {
        let text = "{\"m\":\"a\u{9B}b\u{202E}c\u{200B}\\u001b\"}"
        #expect(SafeText.json(text) == "{\"m\":\"a\\u009bb\\u202ec\\u200b\\u001b\"}")
    }

    @Test func everyUnsafeRangeIsCovered() {
        for v in Array(0x00...0x1F) + Array(0x7F...0x9F) + [0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029]
            + Array(0x202A...0x202E) + [0x2060] + Array(0x2066...0x2069) + [0xFEFF] {
            #expect(SafeText.isUnsafe(Unicode.Scalar(UInt32(v))!), "U+\(String(v, radix: 16))")
        }
        for v in [0x20, 0x41, 0x7E, 0xA0, 0xE9, 0x2010, 0x2030, 0x2070, 0x4E2D, 0x1F525] {
            #expect(!SafeText.isUnsafe(Unicode.Scalar(UInt32(v))!), "U+\(String(v, radix: 16))")
        }
    }
}

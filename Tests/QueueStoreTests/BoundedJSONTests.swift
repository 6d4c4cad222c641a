import Foundation
import QueueStore
import Testing

/// The one JSON renderer of `job show` and the dashboard: bounded by the input's size whatever
/// its shape, never silent about what it left out; and the validity check `enqueue` uses.
@Suite struct BoundedJSONTests {
    static let deep = String(repeating: "[", count: 2_000) + String(repeating: "]", count: 2_000)

    @Test func twoThousandNestedArraysRenderInAFewKilobytesWithTheirSize() {
        let started = Date()
        let r = BoundedJSON.pretty(Self.deep)
        #expect(Date().timeIntervalSince(started) < 1)
        let text = r.lines.joined(separator: "\n")
        #expect(text.utf8.count < 16 * 1024, "\(text.utf8.count) bytes")
        #expect(r.elided && !r.truncated && r.bytes == 4_000 && r.depth == 2_000)
        // 64 levels indented, the rest on one line with what was left out, then 64 closes.
        #expect(r.lines.count == 64 + 1 + 64)
        #expect(r.lines[64].contains("(elided: 3.9 KB, 1936 levels deep)"), "\(r.lines[64])")
        #expect(r.lines.last == "]")
    }

    @Test func outputCapsEndInAnExplicitMarker() {
        let wide = "[" + (0..<100_000).map(String.init).joined(separator: ",") + "]"
        let r = BoundedJSON.pretty(wide, limits: .cli)
        #expect(r.truncated && !r.elided)
        #expect(r.lines.joined(separator: "\n").utf8.count < 64 * 1024 + 100)
        #expect(r.lines.last == "… (truncated: \(BoundedJSON.size(wide.utf8.count)), depth 1)", "\(r.lines.last ?? "")")
        let screen = BoundedJSON.pretty(wide, limits: .screen)
        #expect(screen.lines.count == 2_001 && screen.lines.last?.hasPrefix("… (truncated: ") == true)
        // One long string: its line is cut (on a character boundary) and says so.
        let long = BoundedJSON.pretty(#"{"s": ""# + String(repeating: "é", count: 10_000) + #""}"#, limits: .screen)
        #expect(long.lines[1].hasSuffix("é …") && long.lines[1].utf8.count <= 1_024 + 4, "\(long.lines[1].suffix(8))")
    }

    @Test func ordinaryDocumentsAreLaidOutAsBefore() {
        #expect(BoundedJSON.pretty(#"{"a": [1, {"b": "x, {y}"}], "e": {}}"#).lines == [
            "{", #"  "a": ["#, "    1,", "    {", #"      "b": "x, {y}""#, "    }", "  ],", #"  "e": {}"#, "}",
        ])
        // Shallow enough after all: a short subtree past the depth cap is shown whole, compactly.
        let nested = BoundedJSON.pretty(#"[[{"k": [1, 2]}]]"#, limits: BoundedJSON.Limits(maxDepth: 2))
        #expect(nested.lines == ["[", "  [", #"    {"k":[1,2]}"#, "  ]", "]"] && !nested.elided)
    }

    @Test func validityHasNoDepthLimit() {
        #expect(BoundedJSON.isValid(Self.deep))
        let deepObject = String(repeating: #"{"a":"#, count: 5_000) + "1" + String(repeating: "}", count: 5_000)
        #expect(BoundedJSON.isValid(deepObject))
        for good in ["0", "-1.5e+3", #""x\u00e9\n""#, " true ", "null", "[]", "{}", #"{"a": [1, "b", null, false]}"#] {
            #expect(BoundedJSON.isValid(good), "\(good)")
        }
        for bad in ["", "[1,", "[1,]", "{\"a\" 1}", "{1: 2}", "01", "1.", "tru", #""\x""#, "[] []", "\"a\nb\"", "{\"a\":1,}",
                    String(repeating: "[", count: 2_000)] {
            #expect(!BoundedJSON.isValid(bad), "\(bad.prefix(20))")
        }
    }
}

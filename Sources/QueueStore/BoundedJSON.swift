import Foundation

/// JSON text for people and checks of it, at a cost bounded by its size whatever its shape.
///
/// A payload, result or error is data from outside: 2,000 nested arrays fit in 4 KB. Nothing
/// here recurses or parses into objects (Foundation's JSONSerialization has a depth limit and
/// its pretty-printer grows with depth × size). `pretty` streams over the bytes once, indents up
/// to `Limits.maxDepth`, shows anything deeper compactly on one line with its size, and stops at
/// the output caps with an explicit marker. The dashboard's job view and `queuetop job show`
/// both print through it.
public enum BoundedJSON {
    public struct Limits: Sendable, Equatable {
        /// Containers opened at this depth or deeper are shown compactly and elided.
        public var maxDepth: Int
        /// Output caps: lines, total bytes, and bytes per line (a longer line ends in "…").
        public var maxLines: Int
        public var maxBytes: Int
        public var maxLineBytes: Int
        /// Bytes of an elided subtree shown before its marker.
        public var previewBytes: Int
        public var indent: String

        public init(maxDepth: Int = 64, maxLines: Int = .max, maxBytes: Int = 64 * 1024, maxLineBytes: Int = 16 * 1024,
                    previewBytes: Int = 40, indent: String = "  ") {
            self.maxDepth = max(1, maxDepth); self.maxLines = max(1, maxLines); self.maxBytes = max(1, maxBytes)
            self.maxLineBytes = max(16, maxLineBytes); self.previewBytes = max(0, previewBytes); self.indent = indent
        }

        /// `queuetop job show`: 64 KiB per document.
        public static let cli = Limits()
        /// The dashboard: 16 levels (32 columns of indent) leave the elided rest and its size in
        /// view on an 80-column terminal; a screenful is a few hundred columns wide at most, and
        /// nobody scrolls 2,000 lines.
        public static let screen = Limits(maxDepth: 16, maxLines: 2_000, maxBytes: 256 * 1024, maxLineBytes: 1_024,
                                          previewBytes: 16)
    }

    public struct Rendering: Sendable, Equatable {
        public var lines: [String]
        /// An output cap cut the text; the last line says so.
        public var truncated: Bool
        /// Something nested deeper than `maxDepth` is shown compactly, with a marker.
        public var elided: Bool
        /// The input's size in bytes and its deepest nesting.
        public var bytes: Int
        public var depth: Int
    }

    /// Pretty-prints `text` within `limits`. Text that is not JSON is shown anyway, never dropped.
    public static func pretty(_ text: String, limits: Limits = .cli) -> Rendering {
        let b = Array(text.utf8)
        var out = Printer(limits: limits)
        var depth = 0
        var strings = StringTracker()
        var elided = false
        var i = 0
        while i < b.count && !out.full {
            let c = b[i]
            if strings.consume(c) {
                if c == A.lf { out.append(A.space) } else if c != A.cr { out.append(c) }
                i += 1
                continue
            }
            switch c {
            case A.openBrace, A.openBracket:
                // An empty object or array stays on one line: "{}".
                var j = i + 1
                while j < b.count, A.isSpace(b[j]) { j += 1 }
                if j < b.count, b[j] == (c == A.openBrace ? A.closeBrace : A.closeBracket) {
                    out.append(c); out.append(b[j])
                    i = j + 1
                    continue
                }
                if depth >= limits.maxDepth {
                    let (end, levels) = subtree(b, from: i)
                    // Shown whole when it is short after all; otherwise cut, with what was left out.
                    if !out.appendCompact(b[i..<end], upTo: limits.previewBytes) {
                        out.append(" (elided: \(size(end - i)), \(levels) levels deep)")
                        elided = true
                    }
                    i = end
                    continue
                }
                out.append(c)
                depth += 1
                out.newline(depth: depth)
            case A.closeBrace, A.closeBracket:
                depth = max(0, depth - 1)
                if out.lineIsBlank { out.reindent(depth: depth) } else { out.newline(depth: depth) }
                out.append(c)
            case A.comma:
                out.append(c)
                out.newline(depth: depth)
            case A.colon:
                out.append(": ")
            case _ where A.isSpace(c):
                break
            default:
                out.append(c)
            }
            i += 1
        }
        let truncated = out.full && i < b.count
        out.finish()
        let deepest = shape(b)
        if truncated { out.lines.append("… (truncated: \(size(b.count)), depth \(deepest))") }
        return Rendering(lines: out.lines, truncated: truncated, elided: elided, bytes: b.count, depth: deepest)
    }

    /// Whether `text` is one JSON value (RFC 8259, any scalar at the top too), however deeply
    /// nested: an explicit stack, no recursion. The server has the last word (jsonb has limits of
    /// its own, such as `\u0000`); this only stops text that is not JSON at all before it is sent.
    public static func isValid(_ text: String) -> Bool {
        var v = Validator(Array(text.utf8))
        return v.run()
    }

    /// The deepest nesting in `bytes` (0 for a scalar), skipping strings.
    static func shape(_ b: [UInt8]) -> Int {
        var depth = 0, deepest = 0
        var strings = StringTracker()
        for c in b where !strings.consume(c) {
            switch c {
            case A.openBrace, A.openBracket: depth += 1; deepest = max(deepest, depth)
            case A.closeBrace, A.closeBracket: depth = max(0, depth - 1)
            default: break
            }
        }
        return deepest
    }

    /// Where the container opened at `start` ends (just past its close, or the end of the text)
    /// and how many levels it nests.
    static func subtree(_ b: [UInt8], from start: Int) -> (end: Int, levels: Int) {
        var depth = 0, deepest = 0
        var strings = StringTracker()
        var k = start
        while k < b.count {
            let c = b[k]
            k += 1
            if strings.consume(c) { continue }
            switch c {
            case A.openBrace, A.openBracket: depth += 1; deepest = max(deepest, depth)
            case A.closeBrace, A.closeBracket:
                depth -= 1
                if depth == 0 { return (k, deepest) }
            default: break
            }
        }
        return (b.count, deepest)
    }

    /// "812 B", "4.0 KB", "1.3 MB" (1 KB = 1,000 bytes, like the sizes PostgreSQL prints).
    public static func size(_ bytes: Int) -> String {
        if bytes < 1_000 { return "\(bytes) B" }
        if bytes < 1_000_000 { return String(format: "%.1f KB", Double(bytes) / 1_000) }
        if bytes < 1_000_000_000 { return String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        return String(format: "%.1f GB", Double(bytes) / 1_000_000_000)
    }
}

/// ASCII bytes the scanners look at.
private enum A {
    static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), comma = UInt8(ascii: ","), colon = UInt8(ascii: ":")
    static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
    static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
    static func isSpace(_ c: UInt8) -> Bool { c == space || c == tab || c == lf || c == cr }
}

/// Whether a byte-by-byte scan of JSON text is inside a string: the one place that knows a
/// quote after a backslash does not end it, so each scanner above sees only the structure.
private struct StringTracker {
    private(set) var isInside = false
    private var escaped = false

    /// Takes the next byte; true when it belongs to a string (its quotes included).
    mutating func consume(_ c: UInt8) -> Bool {
        if isInside {
            if escaped { escaped = false } else if c == A.backslash { escaped = true } else if c == A.quote { isInside = false }
            return true
        }
        if c == A.quote { isInside = true; return true }
        return false
    }
}

/// Lines being written, within the caps.
private struct Printer {
    let limits: BoundedJSON.Limits
    var lines: [String] = []
    var line: [UInt8] = []
    var clipped = false
    var written = 0
    /// An output cap was reached: nothing more is written.
    var full = false

    init(limits: BoundedJSON.Limits) { self.limits = limits }

    var lineIsBlank: Bool { line.allSatisfy { $0 == A.space } }

    mutating func append(_ c: UInt8) {
        guard !full else { return }
        if line.count >= limits.maxLineBytes { clipped = true; return }
        line.append(c)
    }

    mutating func append(_ s: String) { for c in s.utf8 { append(c) } }

    /// The bytes without the whitespace between tokens, the first `limit` of them, then "…" if
    /// cut. True when they were shown whole.
    mutating func appendCompact(_ bytes: ArraySlice<UInt8>, upTo limit: Int) -> Bool {
        var shown = 0
        var strings = StringTracker()
        for c in bytes {
            if !strings.isInside && A.isSpace(c) { continue }
            _ = strings.consume(c)
            if shown >= limit { trimPartialCharacter(); append("…"); return false }
            append(c == A.lf || c == A.cr ? A.space : c)
            shown += 1
        }
        return true
    }

    mutating func newline(depth: Int) {
        flush()
        guard !full else { return }
        reindent(depth: depth)
    }

    mutating func reindent(depth: Int) {
        line = Array(String(repeating: limits.indent, count: max(0, depth)).utf8)
    }

    mutating func finish() {
        if !full, !lineIsBlank || lines.isEmpty { flush() }
    }

    private mutating func flush() {
        guard !full else { return }
        if clipped { trimPartialCharacter(); line += Array(" …".utf8); clipped = false }
        written += line.count + 1
        lines.append(String(decoding: line, as: UTF8.self))
        line = []
        if lines.count >= limits.maxLines || written >= limits.maxBytes { full = true }
    }

    /// A line cut by bytes must not end in half a character.
    private mutating func trimPartialCharacter() {
        var continuation = 0
        while continuation < line.count, line[line.count - 1 - continuation] & 0xC0 == 0x80 { continuation += 1 }
        let leadIndex = line.count - 1 - continuation
        guard leadIndex >= 0 else { return }
        let lead = line[leadIndex]
        let expected = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        if continuation + 1 < expected { line.removeLast(continuation + 1) }
    }
}

/// RFC 8259 over bytes with an explicit stack.
private struct Validator {
    let b: [UInt8]
    var i = 0
    init(_ b: [UInt8]) { self.b = b }

    private enum Expect { case value, key, after }

    mutating func run() -> Bool {
        var stack: [Bool] = []  // true = object
        var expect = Expect.value
        while true {
            skipSpace()
            switch expect {
            case .value:
                guard i < b.count else { return false }
                let c = b[i]
                if c == A.openBracket || c == A.openBrace {
                    let object = c == A.openBrace
                    i += 1
                    skipSpace()
                    if i < b.count, b[i] == (object ? A.closeBrace : A.closeBracket) {
                        i += 1
                        expect = .after
                    } else {
                        stack.append(object)
                        expect = object ? .key : .value
                    }
                    continue
                }
                guard scalar() else { return false }
                expect = .after
            case .key:
                guard i < b.count, b[i] == A.quote, string() else { return false }
                skipSpace()
                guard i < b.count, b[i] == A.colon else { return false }
                i += 1
                expect = .value
            case .after:
                guard let object = stack.last else { return i == b.count }
                guard i < b.count else { return false }
                if b[i] == A.comma {
                    i += 1
                    expect = object ? .key : .value
                } else if b[i] == (object ? A.closeBrace : A.closeBracket) {
                    i += 1
                    stack.removeLast()
                    expect = .after
                } else {
                    return false
                }
            }
        }
    }

    private mutating func skipSpace() { while i < b.count, A.isSpace(b[i]) { i += 1 } }

    private mutating func scalar() -> Bool {
        switch b[i] {
        case A.quote: return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    private mutating func literal(_ word: String) -> Bool {
        for c in word.utf8 {
            guard i < b.count, b[i] == c else { return false }
            i += 1
        }
        return true
    }

    private mutating func string() -> Bool {
        i += 1  // the opening quote
        while i < b.count {
            let c = b[i]
            i += 1
            if c == A.quote { return true }
            if c < 0x20 { return false }
            if c == A.backslash {
                guard i < b.count else { return false }
                let e = b[i]
                i += 1
                switch e {
                case A.quote, A.backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    for _ in 0..<4 {
                        guard i < b.count, isHex(b[i]) else { return false }
                        i += 1
                    }
                default:
                    return false
                }
            }
        }
        return false
    }

    private mutating func number() -> Bool {
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, isDigit(b[i]) else { return false }
        if b[i] == UInt8(ascii: "0") { i += 1 } else { digits() }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < b.count, isDigit(b[i]) else { return false }
            digits()
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, isDigit(b[i]) else { return false }
            digits()
        }
        return true
    }

    private mutating func digits() { while i < b.count, isDigit(b[i]) { i += 1 } }
    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private func isHex(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
    }
}

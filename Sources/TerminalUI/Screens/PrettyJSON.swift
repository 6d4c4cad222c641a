/// JSON text re-indented for reading, two spaces a level.
///
/// It re-lays the text as given instead of parsing and re-serialising it: keys keep the order
/// Postgres stored them in, numbers keep their exact spelling (no 1e+21 or 0.30000000000000004),
/// and text that is not valid JSON still shows, just indented as far as it makes sense.
enum PrettyJSON {
    static func lines(_ json: String, indent: String = "  ") -> [String] {
        var lines: [String] = []
        var line = ""
        var depth = 0
        var inString = false
        var escaped = false
        var chars = Array(json)
        var i = 0
        func newline() {
            lines.append(line)
            line = String(repeating: indent, count: max(0, depth))
        }
        chars = chars.filter { $0 != "\r" }
        while i < chars.count {
            let c = chars[i]
            defer { i += 1 }
            if inString {
                line.append(c == "\n" ? " " : c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                continue
            }
            switch c {
            case "\"":
                inString = true
                line.append(c)
            case "{", "[":
                // An empty object or array stays on one line: "{}".
                var j = i + 1
                while j < chars.count, chars[j].isWhitespace { j += 1 }
                if j < chars.count, chars[j] == (c == "{" ? "}" : "]") {
                    line.append(c)
                    line.append(chars[j])
                    i = j
                    continue
                }
                line.append(c)
                depth += 1
                newline()
            case "}", "]":
                depth -= 1
                if !line.allSatisfy(\.isWhitespace) { newline() } else { line = String(repeating: indent, count: max(0, depth)) }
                line.append(c)
            case ",":
                line.append(c)
                newline()
            case ":":
                line.append(": ")
            case _ where c.isWhitespace:
                continue
            default:
                line.append(c)
            }
        }
        if !line.allSatisfy(\.isWhitespace) || lines.isEmpty { lines.append(line) }
        return lines
    }
}

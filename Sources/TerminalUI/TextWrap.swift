/// Word wrapping by display width (dialog bodies, long error messages).
public enum TextWrap {
    /// `text` broken into lines of at most `width` columns. Explicit newlines are kept; words
    /// longer than a line are split so that nothing is ever lost off the right edge.
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            var lineWidth = 0
            for word in paragraph.split(separator: " ", omittingEmptySubsequences: true) {
                var piece = String(word)
                var pieceWidth = DisplayWidth.of(piece)
                if lineWidth > 0 && lineWidth + 1 + pieceWidth <= width {
                    line += " " + piece
                    lineWidth += 1 + pieceWidth
                    continue
                }
                if lineWidth > 0 {
                    lines.append(line)
                    line = ""
                    lineWidth = 0
                }
                while pieceWidth > width {
                    let (head, rest) = split(piece, atWidth: width)
                    lines.append(head)
                    piece = rest
                    pieceWidth = DisplayWidth.of(piece)
                }
                line = piece
                lineWidth = pieceWidth
            }
            lines.append(line)
        }
        return lines
    }

    /// The longest prefix of `text` that fits in `width` columns, and the rest.
    static func split(_ text: String, atWidth width: Int) -> (String, String) {
        var head = ""
        var used = 0
        var index = text.startIndex
        while index < text.endIndex {
            let w = DisplayWidth.of(text[index])
            if used + w > width && !head.isEmpty { break }
            head.append(text[index])
            used += w
            index = text.index(after: index)
        }
        return (head, String(text[index...]))
    }

    /// Tabs expanded to the next multiple of `tabWidth` columns (pre-formatted text).
    public static func expandTabs(_ line: String, tabWidth: Int = 8) -> String {
        guard line.contains("\t") else { return line }
        var result = ""
        var column = 0
        for character in line {
            if character == "\t" {
                let spaces = tabWidth - column % tabWidth
                result += String(repeating: " ", count: spaces)
                column += spaces
            } else {
                result.append(character)
                column += DisplayWidth.of(character)
            }
        }
        return result
    }
}

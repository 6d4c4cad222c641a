/// Help discussions as prose that swift-argument-parser wraps to the terminal.
///
/// The parser keeps every newline of a discussion and wraps each line at 80 columns on its
/// own, so a paragraph written in source at the code's width (about 100 columns) came out at
/// 80 as one full line and one stub per source line ("…(worker options as for" / "`queuetop
/// worker`; worker log lines go to…"). `reflow` joins the lines of each paragraph into one
/// line and lets the parser do the wrapping. What must keep its own line stays as written:
/// a blank line separates paragraphs, and an indented line (an example command, a JSON
/// shape) is kept whole, as is a line of prose after it.
enum HelpText {
    static func reflow(_ text: String) -> String {
        var out: [String] = []
        var paragraph: [String] = []
        func flush() {
            if !paragraph.isEmpty { out.append(paragraph.joined(separator: " ")) }
            paragraph = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                flush()
                out.append("")
            } else if line.first == " " {
                flush()
                out.append(line)
            } else {
                paragraph.append(line.trimmingCharacters(in: .whitespaces))
            }
        }
        flush()
        return out.joined(separator: "\n")
    }
}

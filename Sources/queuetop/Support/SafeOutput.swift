import Foundation
import Postgres

/// Every line the CLI prints to standard output goes through this `print`, which shadows the
/// standard library's inside this module: whatever a command composes, no control, bidi or
/// zero-width character reaches the terminal raw (`SafeText.lines`; line breaks and tabs the
/// command put between lines and columns stay). That is the backstop: a value from the
/// database also goes through `SafeText.oneLine` where it is interpolated, so a newline in
/// it cannot start a line of its own. Output that must stay byte-exact (`sql bundle`, the
/// screen clear of `status --watch`) calls `Swift.print`.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator)
    Swift.print(SafeText.lines(text), terminator: terminator)
}

/// One line on standard error (a warning, a retry notice, a server notice), made safe the same way.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((SafeText.lines(line) + "\n").utf8))
}

extension DefaultStringInterpolation {
    /// `"\(safe: job.errorMessage)"`: a value from outside as one safe line (`SafeText.oneLine`).
    mutating func appendInterpolation(safe value: some StringProtocol) {
        appendLiteral(SafeText.oneLine(value))
    }
}

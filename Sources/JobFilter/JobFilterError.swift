/// A filter that does not parse: what is wrong, and the 1-based column (in characters) of the
/// term at fault, so the CLI and the dashboard can point at it.
public struct JobFilterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong ("unknown field 'qeue'").
    public let message: String
    /// What to do instead ("did you mean queue?"), if there is something to say.
    public let hint: String?
    public let column: Int

    public init(_ message: String, hint: String? = nil, column: Int) {
        self.message = message
        self.hint = hint
        self.column = column
    }

    /// "unknown field 'qeue' at 1: did you mean queue?"
    public var description: String { "\(message) at \(column)" + (hint.map { ": " + $0 } ?? "") }
}

/// The closest known word within two edits, for "did you mean …?".
func closest(to word: String, among candidates: [String]) -> String? {
    let w = Array(word.lowercased())
    var best: (String, Int)?
    for candidate in candidates {
        let d = editDistance(w, Array(candidate))
        if d <= 2, d < (best?.1 ?? Int.max) { best = (candidate, d) }
    }
    return best?.0
}

private func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

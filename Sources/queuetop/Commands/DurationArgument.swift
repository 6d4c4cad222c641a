import Foundation

/// Durations on the command line: a number of seconds, or a number with s, m, h or d
/// ("90", "90s", "10m", "2h", "1d").
enum DurationArgument {
    static func seconds(_ text: String, option: String) throws -> Int {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        var digits = Substring(trimmed)
        var unit = 1
        if let last = trimmed.last, let factor = units[last] {
            unit = factor
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int(digits), value > 0,
              value <= Int(Int32.max) / unit else {
            throw CLIError("\(option) \(text): expected a positive duration such as 90, 90s, 10m, 2h or 1d")
        }
        return value * unit
    }
}

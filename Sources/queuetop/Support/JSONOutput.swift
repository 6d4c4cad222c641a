import Foundation

/// Prints a JSON value (dictionaries, arrays, strings, numbers, bools, NSNull) with sorted keys,
/// so `--json` output is stable for scripts.
func printJSON(_ value: Any) {
    guard JSONSerialization.isValidJSONObject(value),
          let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]),
          let text = String(data: data, encoding: .utf8) else {
        print("null")
        return
    }
    print(text)
}

import Foundation
import Postgres

/// Prints a JSON value (dictionaries, arrays, strings, numbers, bools, NSNull) with sorted keys,
/// so `--json` output is stable for scripts. JSONSerialization escapes C0 controls but leaves
/// DEL, C1, bidi and zero-width characters raw inside strings: those become `\u` escapes
/// (`SafeText.json`), so the document means the same and shows no control on a terminal.
func printJSON(_ value: Any) {
    guard JSONSerialization.isValidJSONObject(value),
          let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]),
          let text = String(data: data, encoding: .utf8) else {
        print("null")
        return
    }
    print(SafeText.json(text))
}

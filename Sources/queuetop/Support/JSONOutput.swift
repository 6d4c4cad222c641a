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

/// Prints a Codable value as `--json` output through the one shared encoder: the same shape as
/// `printJSON` (sorted keys, `/` unescaped, no spaces) and the same `SafeText.json` pass for the
/// characters JSONEncoder leaves raw (DEL, C1, bidi, zero-width). Typed output structs replace
/// `[String: Any]` dictionaries one command at a time; an optional is encoded as `null`, not
/// left out, as the dictionaries' `NSNull()` did.
func printJSON(encoding value: some Encodable) {
    guard let data = try? JSONOutput.encoder.encode(value), let text = String(data: data, encoding: .utf8) else {
        print("null")
        return
    }
    print(SafeText.json(text))
}

enum JSONOutput {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

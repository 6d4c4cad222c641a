import Foundation
import Postgres
import Synchronization

/// Prints a value as `--json` output: one Encodable struct per output shape (in the file of the
/// command that prints it), sorted keys, `/` unescaped, no spaces, so the output is stable for
/// scripts. JSONEncoder escapes `"`, `\` and C0 but leaves DEL, C1, bidi and zero-width
/// characters raw inside strings: those become `\u` escapes (`SafeText.json`), so the document
/// means the same and shows no control on a terminal.
///
/// Two conventions every shape follows (Tests/CLITests/JSONShapeTests.swift holds them):
/// an optional the output always has is `@OrNull` (encoded as `null`, never left out, as
/// scripts expect the key); an optional declared plainly is left out when nil (a section that
/// only some databases have). Stored JSON (payloads, results) is `EmbeddedJSON`: the text
/// itself, never re-parsed.
func printJSON(_ value: some Encodable) {
    print(JSONOutput.render(value))
}

enum JSONOutput {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The value as one line of JSON (see `printJSON`); "null" if it cannot be encoded, which
    /// only a non-finite Double could cause.
    static func render(_ value: some Encodable) -> String {
        let embedded = EmbeddedJSON.Slots()
        let encoder = encoder
        encoder.userInfo[EmbeddedJSON.slotsKey] = embedded
        guard let data = try? encoder.encode(value) else { return "null" }
        return SafeText.json(embedded.fill(String(decoding: data, as: UTF8.self)))
    }
}

/// An optional that is always in the output: `null` when nil. (Encodable leaves a nil optional
/// out; a script that reads `job["tenant"]` must find the key either way.)
@propertyWrapper
struct OrNull<Value: Encodable>: Encodable {
    var wrappedValue: Value?
    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// JSON text the database stored (a payload, a result, error details), embedded in the output
/// as it is. Decoding it into values first would turn valid deep JSON into an error (Foundation's
/// parsers stop at a nesting depth the server accepts; DeepPayloadTests) and reorder nothing
/// useful. JSONEncoder cannot write raw text, so the value encodes as a placeholder string that
/// `JSONOutput.render` replaces with the text after encoding.
struct EmbeddedJSON: Encodable {
    let text: String
    init(_ text: String) { self.text = text }

    static let slotsKey = CodingUserInfoKey(rawValue: "queuetop.embeddedJSON")!

    func encode(to encoder: any Encoder) throws {
        guard let slots = encoder.userInfo[Self.slotsKey] as? Slots else {
            throw EncodingError.invalidValue(text, .init(codingPath: encoder.codingPath,
                                                         debugDescription: "EmbeddedJSON is written by JSONOutput.render only"))
        }
        var container = encoder.singleValueContainer()
        try container.encode(slots.placeholder(for: text))
    }

    /// The texts of one rendering, by placeholder. The placeholders carry a random tag, so no
    /// string in the data (a queue name, a message) can be mistaken for one.
    final class Slots: Sendable {
        private let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        private let texts = Mutex<[String]>([])

        private var prefix: String { "\"qtraw\(tag)_" }

        func placeholder(for text: String) -> String {
            let index = texts.withLock { $0.append(text); return $0.count - 1 }
            return "qtraw\(tag)_\(index)"
        }

        /// `encoded` with every quoted placeholder replaced by its text, in one pass.
        func fill(_ encoded: String) -> String {
            let all = texts.withLock { $0 }
            guard !all.isEmpty else { return encoded }
            var parts = encoded.components(separatedBy: prefix)
            for i in parts.indices.dropFirst() {
                let part = parts[i]
                guard let quote = part.firstIndex(of: "\""), let index = Int(part[..<quote]), all.indices.contains(index) else {
                    parts[i] = prefix + part
                    continue
                }
                parts[i] = all[index] + part[part.index(after: quote)...]
            }
            return parts.joined()
        }
    }
}

import Foundation

/// W3C Trace Context (https://www.w3.org/TR/trace-context/) carried by a job: a producer that
/// wants the http handler's request joined to its trace puts it in the payload under
/// `_meta.traceparent` (and optionally `_meta.tracestate`). queuetop has no job-metadata
/// column; `_meta` is the payload key we read (docs/WORKERS.md). Only a well-formed value is
/// forwarded: a malformed one is dropped, never sent raw (it could carry a CR LF or garbage a
/// tracing backend would choke on).
struct TraceContext: Equatable {
    var traceparent: String
    var tracestate: String?

    /// The job's trace context, if its payload has a valid one.
    static func of(payload: String) -> TraceContext? {
        guard let object = JSONSupport.parseObject(payload),
              let meta = object["_meta"] as? [String: Any],
              let parent = meta["traceparent"] as? String, isValidTraceparent(parent) else { return nil }
        let state = (meta["tracestate"] as? String).flatMap { isValidTracestate($0) ? $0 : nil }
        return TraceContext(traceparent: parent, tracestate: state)
    }

    /// `version-traceid-parentid-flags`, lowercase hex: 2-32-16-2. Version ff is invalid, and an
    /// all-zero trace id or parent id is invalid. Version 00 has exactly these four fields; a
    /// later version may append more after a `-` (the spec's forward compatibility).
    static func isValidTraceparent(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count >= 55 else { return false }
        func hex(_ range: Range<Int>) -> Bool {
            bytes[range].allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
        guard hex(0..<2), bytes[2] == 0x2D, hex(3..<35), bytes[35] == 0x2D, hex(36..<52), bytes[52] == 0x2D, hex(53..<55)
        else { return false }
        let version = String(decoding: bytes[0..<2], as: UTF8.self)
        guard version != "ff" else { return false }
        if version == "00" && bytes.count != 55 { return false }
        if bytes.count > 55 && (bytes[55] != 0x2D || !bytes[56...].allSatisfy({ (0x21...0x7E).contains($0) })) { return false }
        let zeros = { (r: Range<Int>) in bytes[r].allSatisfy { $0 == 0x30 } }
        return !zeros(3..<35) && !zeros(36..<52)
    }

    /// Up to 32 comma-separated `key=value` members, at most 512 characters, printable ASCII
    /// only (no CR, LF or other control). Keys are lowercase `a-z0-9_-*/` with an optional
    /// `tenant@system` form; values have no `,` or `=`.
    static func isValidTracestate(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 512, value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { return false }
        let members = value.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t")) }
        guard members.count <= 32 else { return false }
        for member in members where !member.isEmpty {
            guard let eq = member.firstIndex(of: "=") else { return false }
            let key = member[..<eq], val = member[member.index(after: eq)...]
            let keyChars = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789_-*/@")
            guard !key.isEmpty, key.count <= 256, key.unicodeScalars.allSatisfy(keyChars.contains),
                  !val.isEmpty, val.count <= 256, !val.contains(","), !val.contains("="), val.last != " " else { return false }
        }
        return true
    }
}

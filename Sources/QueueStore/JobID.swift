import Foundation
import Postgres

/// A job's id as `claim_jobs` returned it, carried unchanged from the claim through the worker's
/// ledger, lease heartbeats, release and complete_jobs / fail_jobs. It keeps the server's own
/// text (`8-4-4-4-12`, lowercase), checked once when the row is decoded, so the hot path neither
/// parses nor prints a uuid again: the text is what handlers see (HTTP bodies, QUEUETOP_JOB_ID)
/// and what is bound, as-is, into the `uuid[]` parameters.
///
/// A column value that is not a uuid is a decoding error, never a stand-in id.
public struct JobID: Hashable, Sendable, CustomStringConvertible, PostgresEncodable, PostgresDecodable {
    /// The canonical text: lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    public let text: String

    /// nil unless `text` is a uuid in `8-4-4-4-12` form (either case; kept lowercase).
    public init?(_ text: String) {
        guard let uuid = UUID(postgresText: text) else { return nil }
        self.text = text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "F") }) ? uuid.postgresText : text
    }

    /// An id known as a `UUID` (an enqueue result, a CLI argument).
    public init(_ uuid: UUID) { text = uuid.postgresText }

    public var uuid: UUID { UUID(postgresText: text)! }  // checked when made
    public var description: String { text }
    public var postgresText: String { text }

    public static func decode(postgresText text: String, typeOID: UInt32) throws -> JobID {
        guard let id = JobID(text) else {
            throw PostgresError(kind: .decoding, message: "cannot read \(String(text.prefix(60)).debugDescription) as a job id (uuid)")
        }
        return id
    }
}

/// How screens and messages shorten a job id: its last 8 hex digits. A UUIDv7 starts with a
/// 48-bit millisecond clock, so the first 8 digits of every job created within the same ~65 s
/// are the same (the DLQ and audit screens used to show one id for twenty jobs); the tail is 32
/// random bits, different for any jobs shown together but by a chance of about n²/2³³ (20 jobs:
/// 1 in 40 million). `:job` and `queuetop job` take it back (`JobStore.lookUp`, a suffix).
public enum ShortJobID {
    public static let length = 8

    public static func of(_ id: UUID) -> String { of(id.uuidString.lowercased()) }

    /// The tail of an id held as text (an audit row's ids); text shorter than that as it is.
    public static func of(_ text: String) -> String { String(text.suffix(length)).lowercased() }
}

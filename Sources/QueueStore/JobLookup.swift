import Foundation
import Postgres

/// Finding a job from the part of its id a person has: the whole UUID, or the short id a screen
/// or CLI table printed (the random tail, `ShortJobID`), or any other prefix or suffix.
public enum JobLookup: Sendable, Equatable {
    case found(UUID)
    /// "no job matches 'abcd'".
    case noMatch
    /// More than one job matches; `count` is exact up to `JobLookup.limit`, then "more than".
    case ambiguous(count: Int, sample: [UUID])

    /// How many matches are counted before saying "more than".
    public static let limit = 100

    /// The sentence a refusal prints (CLI error, dashboard footer).
    public func refusal(for text: String) -> String? {
        let shown = SafeText.oneLine(String(text.prefix(60)))
        switch self {
        case .found: return nil
        case .noMatch: return "no job matches '\(shown)' (never enqueued, or removed by its queue's retention)"
        case .ambiguous(let count, let sample):
            let n = count > Self.limit ? "more than \(Self.limit)" : String(count)
            let examples = sample.prefix(3).map { $0.uuidString.lowercased() }.joined(separator: ", ")
            return "ambiguous: \(n) jobs match '\(shown)' (e.g. \(examples)); give more of the id"
        }
    }
}

extension JobStore {
    /// The job `text` names: a whole UUID as it is, or any unique prefix or suffix of at least 4
    /// hex digits, with or without dashes (`find_job_ids`). Text that cannot be part of an id
    /// throws `invalidInput`.
    public func lookUp(_ text: String) throws -> JobLookup {
        if let whole = JobIDText.parse(text) { return .found(whole) }
        guard JobIDText.couldBePart(text) else { throw QueueStoreError.invalidInput(JobIDText.notAJobID(text)) }
        let part = text.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\"'`")))
        let ids: [UUID] = try connection.run("""
            SELECT id FROM \(qt: "find_job_ids")(\(part), \(JobLookup.limit + 1)) AS id
            """).map { try $0.decode(0) }
        switch ids.count {
        case 0: return .noMatch
        case 1: return .found(ids[0])
        default: return .ambiguous(count: ids.count, sample: ids)
        }
    }

    /// `lookUp`, with a refusal as a `notFound` / `invalidInput` error.
    public func resolve(_ text: String) throws -> UUID {
        let lookup = try lookUp(text)
        if case .found(let id) = lookup { return id }
        throw lookup == .noMatch ? QueueStoreError.notFound(lookup.refusal(for: text)!) : QueueStoreError.invalidInput(lookup.refusal(for: text)!)
    }
}

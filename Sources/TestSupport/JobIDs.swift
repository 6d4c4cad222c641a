import Foundation
import QueueStore

extension JobID {
    /// A well-formed job id for tests that need many distinct ones: `n` in the last 12 hex digits.
    public static func numbered(_ n: Int) -> JobID { JobID(String(format: "00000000-0000-4000-8000-%012x", n))! }
}

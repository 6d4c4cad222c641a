import Foundation
import QueueStore

/// JSON text re-indented for reading, two spaces a level.
///
/// It re-lays the text as given instead of parsing and re-serialising it: keys keep the order
/// Postgres stored them in, numbers keep their exact spelling (no 1e+21 or 0.30000000000000004),
/// and text that is not valid JSON still shows, just indented as far as it makes sense.
///
/// The work is `BoundedJSON.pretty` with the screen's caps (the same renderer as `job show`):
/// deeper than 64 levels is shown compactly with its size, and past 2,000 lines the rest is one
/// "… (truncated: …)" line. Every frame draws the job again, so the last few renderings are
/// kept: an unchanged document costs a string comparison, not a pass over it.
enum PrettyJSON {
    static func lines(_ json: String) -> [String] {
        if let hit = cache.lookup(json) { return hit }
        let lines = BoundedJSON.pretty(json, limits: .screen).lines
        cache.store(json, lines)
        return lines
    }

    private static let cache = Cache()

    /// A handful of (text, lines) pairs, newest last: a job's payload, result and error details.
    private final class Cache: @unchecked Sendable {  // guarded by `lock`
        private let lock = NSLock()
        private var entries: [(text: String, lines: [String])] = []

        func lookup(_ text: String) -> [String]? {
            lock.lock(); defer { lock.unlock() }
            return entries.last { $0.text == text }?.lines
        }

        func store(_ text: String, _ lines: [String]) {
            lock.lock(); defer { lock.unlock() }
            entries.append((text, lines))
            if entries.count > 6 { entries.removeFirst() }
        }
    }
}

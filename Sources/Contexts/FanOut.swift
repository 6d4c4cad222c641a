import Foundation

/// Runs one piece of work per item (a context) at the same time, each on a thread of its own,
/// and returns the answers in the items' order: a slow or dead database costs its own time,
/// never the others' (`contexts list`, `status --all-contexts`, the bench's all-contexts refresh).
public enum FanOut {
    public static func map<Item: Sendable, T: Sendable>(_ items: [Item], _ work: @Sendable @escaping (Item) -> T) -> [T] {
        let results = Results<T>(count: items.count)
        // Threads, not concurrentPerform: that one is bounded by the core count, and on two
        // cores ten contexts would wait for each other.
        let group = DispatchGroup()
        for (i, item) in items.enumerated() {
            group.enter()
            let thread = Thread {
                results.set(i, work(item))
                group.leave()
            }
            thread.start()
        }
        group.wait()
        return results.all()
    }

    private final class Results<T: Sendable>: @unchecked Sendable {  // slots behind `lock`
        private let lock = NSLock()
        private var slots: [T?]
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ value: T) { lock.withLock { slots[i] = value } }
        func all() -> [T] { lock.withLock { slots.map { $0! } } }
    }
}

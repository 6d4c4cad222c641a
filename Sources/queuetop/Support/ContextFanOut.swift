import Contexts
import Foundation
import Postgres

/// Runs one piece of work per context at the same time, each on its own connection, and
/// returns the answers in the contexts' order: a slow or dead database costs its own connect
/// timeout, never the others' time (`contexts list`, `status --all-contexts`).
enum ContextFanOut {
    static func map<T: Sendable>(_ contexts: [ContextDefinition], _ work: @Sendable @escaping (ContextDefinition) -> T) -> [T] {
        let results = Results<T>(count: contexts.count)
        DispatchQueue.concurrentPerform(iterations: contexts.count) { i in
            results.set(i, work(contexts[i]))
        }
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

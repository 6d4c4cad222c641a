import Foundation

/// Runs blocking work (libpq calls) on real threads, all released at the same instant.
///
/// Swift Testing runs tests on a small cooperative pool: a task that blocks in libpq while it
/// waits for another blocked task can hang the pool. Threads cannot.
public enum OnThreads {
    public struct TimedOut: Error, CustomStringConvertible {
        public let description: String
    }

    /// Calls `body(0)` … `body(count - 1)` on `count` threads at once and returns their results
    /// in that order; rethrows the first error; throws `TimedOut` if they are not all done in time.
    public static func run<T: Sendable>(_ count: Int, timeout: TimeInterval = 60,
                                        _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let results = Box<T>(count)
        let gate = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for index in 0..<count {
            done.enter()
            Thread {
                gate.wait()
                results.set(index, Result { try body(index) })
                done.leave()
            }.start()
        }
        for _ in 0..<count { gate.signal() }
        guard done.wait(timeout: .now() + timeout) == .success else {
            throw TimedOut(description: "\(count) threads were not done after \(timeout) s")
        }
        return try results.values.map { try $0!.get() }
    }

    private final class Box<T: Sendable>: @unchecked Sendable {  // guarded by lock
        private let lock = NSLock()
        private var slots: [Result<T, Error>?]
        init(_ count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: Result<T, Error>) { lock.withLock { slots[index] = value } }
        var values: [Result<T, Error>?] { lock.withLock { slots } }
    }
}

import Foundation
import Synchronization

/// One blocking read shared by every caller that asks while it runs: concurrent scrapes cost one
/// database round trip, not one each. The read runs on a thread of its own, never on Swift's
/// cooperative pool (libpq blocks).
final class SharedRead<Value: Sendable>: Sendable {
    private let read: @Sendable () -> Value
    /// nil when no read runs; otherwise everyone waiting for the running one.
    private let waiting = Mutex<[CheckedContinuation<Value, Never>]?>(nil)

    init(_ read: @escaping @Sendable () -> Value) { self.read = read }

    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let first = waiting.withLock { list -> Bool in
                if list == nil { list = [continuation]; return true }
                list!.append(continuation)
                return false
            }
            guard first else { return }
            Thread {
                let value = self.read()
                let waiters = self.waiting.withLock { list in
                    defer { list = nil }
                    return list ?? []
                }
                for waiter in waiters { waiter.resume(returning: value) }
            }.start()
        }
    }
}

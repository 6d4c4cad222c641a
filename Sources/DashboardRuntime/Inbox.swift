import Dashboard
import Synchronization

/// Where the database thread and the change listener leave `Message`s for the drawing thread.
/// Posting never blocks (a lock held only to append), then calls `wake` — the curses side passes
/// `terminal.waker.wake`, which ends the drawing thread's `poll()` at once.
public final class Inbox: Sendable {
    private let messages = Mutex<[Message]>([])
    private let wake: @Sendable () -> Void

    public init(wake: @escaping @Sendable () -> Void) { self.wake = wake }

    public func post(_ new: [Message]) {
        guard !new.isEmpty else { return }
        messages.withLock { $0.append(contentsOf: new) }
        wake()
    }

    /// Everything posted since the last drain, oldest first.
    public func drain() -> [Message] {
        messages.withLock { taken in
            defer { taken.removeAll() }
            return taken
        }
    }
}

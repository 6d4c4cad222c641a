import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// ^C during a bulk action on a terminal: the first one asks the action to stop after the batch
/// in flight (what is done stays done, the audit row says "stopped"); a second one ends the
/// process at once, as ^C normally does. `restore` puts the default handling back.
final class BulkInterrupt {
    /// Set by the signal handler's queue, read between batches.
    private final class Flag: Sendable {
        let requested = Mutex(false)
    }

    private let flag = Flag()
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [flag] in
            let again = flag.requested.withLock { requested in
                defer { requested = true }
                return requested
            }
            if again {
                signal(SIGINT, SIG_DFL)
                raise(SIGINT)
            }
        }
        source.resume()
    }

    var requested: Bool { flag.requested.withLock { $0 } }

    func restore() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Unblocks `signals` on the calling thread. A parent may start us with them blocked
/// (Foundation's Process does, and so does everything such a process starts, a tmux server
/// included); blocked, they would never reach their handlers. Call it on the main thread before
/// other threads exist, so they all inherit the unblocked mask.
func unblockSignals(_ signals: [Int32]) {
    var unblock = sigset_t()
    sigemptyset(&unblock)
    for sig in signals { sigaddset(&unblock, sig) }
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A self-pipe: the one channel by which other threads and signal handlers reach the drawing
/// thread while it sleeps in `poll()`. Both ends are non-blocking, so a burst of wake-ups can
/// never block a writer (a full pipe already means "wake up").
///
/// The pipe is never closed: a `Waker` may outlive the `Terminal` on another thread, and
/// writing to a closed (or reused!) descriptor would be worse than leaking two fds.
final class WakeupPipe: Sendable {
    let readFD: Int32
    let writeFD: Int32

    static let wakeByte: UInt8 = 0x77  // "w"; signal numbers are all below it.

    init() throws(TerminalError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .system(call: "pipe", errno: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    func wake() {
        var byte = Self.wakeByte
        _ = write(writeFD, &byte, 1)
    }

    /// Everything written since the last drain.
    func drain() -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            result += chunk.prefix(n)
        }
        return result
    }
}

/// Wakes the drawing thread from any thread (the database thread posting a refresh result).
/// Cheap, non-blocking, and safe to call after the terminal was restored.
public struct Waker: Sendable {
    let pipe: WakeupPipe

    public func wake() { pipe.wake() }
}

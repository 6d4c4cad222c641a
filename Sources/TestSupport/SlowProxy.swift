import Foundation

/// A TCP forwarder on 127.0.0.1 that holds every chunk for `delay` before passing it on, each
/// way: a slow link (delay × 2 per round trip) between a client and a server, made in-process
/// because netem needs privileges a test does not have. One thread accepts; each connection gets
/// two pump threads. Blocking sockets on plain Threads, never the cooperative pool, since a test
/// blocks on libpq while the proxy must keep moving bytes.
///
/// `freeze()` makes it a frozen proxy: it stops forwarding both ways without closing anything,
/// and keeps accepting new connections, which are frozen too; the kernel still acks what each
/// side sends, so TCP keepalives see a live peer. `thaw()` forwards what was held, in order.
public final class SlowProxy: @unchecked Sendable {  // the fds are only closed once, under `lock`
    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var sockets: [Int32] = []
    private var closed = false
    private let gate = NSCondition()
    private var frozen = false  // under `gate`
    private var freezeTrigger: [UInt8]?  // under `gate`

    /// Listens on an ephemeral port of 127.0.0.1 and forwards to 127.0.0.1:`upstreamPort`.
    public init(upstreamPort: Int, delay: TimeInterval) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop(upstreamPort: upstreamPort, delay: delay) }
        thread.start()
    }

    deinit { stop() }

    /// Stops forwarding, both ways, on every connection, present and future.
    public func freeze() {
        gate.withLock { frozen = true }
    }

    /// Freezes the moment a client sends bytes containing `marker` (a statement's text, say),
    /// before forwarding them: a link that dies after connect, mid-request, at a chosen point.
    public func freeze(whenClientSends marker: String) {
        gate.withLock { freezeTrigger = Array(marker.utf8) }
    }

    /// Forwards again, starting with whatever was held.
    public func thaw() {
        gate.withLock { frozen = false; freezeTrigger = nil; gate.broadcast() }
    }

    public var isFrozen: Bool { gate.withLock { frozen } }

    /// Arms the freeze when a client chunk holds the trigger (client-to-server pumps only).
    private func checkTrigger(_ chunk: ArraySlice<UInt8>) {
        gate.withLock {
            guard let trigger = freezeTrigger, !trigger.isEmpty, chunk.count >= trigger.count else { return }
            var i = chunk.startIndex
            while i + trigger.count <= chunk.endIndex {
                if chunk[i..<(i + trigger.count)].elementsEqual(trigger) { frozen = true; freezeTrigger = nil; return }
                i += 1
            }
        }
    }

    /// Blocks a pump while the proxy is frozen (returns at once once it is stopped).
    private func waitWhileFrozen() {
        gate.withLock {
            while frozen && !isClosed { gate.wait(until: Date().addingTimeInterval(0.2)) }
        }
    }

    private var isClosed: Bool { lock.withLock { closed } }

    /// Closes the listener and every connection (the client sees the link drop).
    public func stop() {
        defer { thaw() }  // wakes pumps parked by a freeze, which then see the sockets closed
        lock.lock(); defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
        sockets = []
    }

    private func acceptLoop(upstreamPort: Int, delay: TimeInterval) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { if errno == EINTR { continue } else { return } }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            lock.lock()
            let keep = !closed && connected == 0
            if keep { sockets += [client, server] }
            lock.unlock()
            guard keep else { close(client); close(server); continue }
            Thread { [self] in pump(from: client, to: server, delay: delay, fromClient: true) }.start()
            Thread { [self] in pump(from: server, to: client, delay: delay, fromClient: false) }.start()
        }
    }

    /// Copies bytes until either side closes, sleeping `delay` before each chunk is forwarded;
    /// then shuts the other side's writing end so the peer sees the close. While frozen nothing
    /// is forwarded, not even a close.
    private func pump(from source: Int32, to destination: Int32, delay: TimeInterval, fromClient: Bool) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if fromClient && n > 0 { checkTrigger(buffer[0..<n]) }
            waitWhileFrozen()
            guard n > 0 else { break }
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            var sent = 0
            while sent < n {
                let m = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                if m < 0 && errno == EINTR { continue }
                guard m > 0 else { shutdown(source, Int32(SHUT_RDWR)); return }
                sent += m
            }
        }
        shutdown(destination, Int32(SHUT_WR))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

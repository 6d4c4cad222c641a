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
///
/// Descriptors are closed only by the last thread that uses them (a link's second pump, the
/// accept loop for the listener), never by `stop()`, which only shuts the sockets down to wake
/// those threads and then waits for them. Every test runs in one process, and a descriptor
/// closed under a thread that still uses it is reused at once (the lowest free number) by the
/// next socket anyone opens: a pump woken after `stop()` would then forward into, read from or
/// shut down another test's PostgreSQL connection ("server closed the connection
/// unexpectedly" in a test that never touched the proxy).
public final class SlowProxy: @unchecked Sendable {  // mutable state under `lock` or `gate`
    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var links: [ObjectIdentifier: Link] = [:]  // under `lock`
    private var closed = false  // under `lock`
    private var listenerClosed = false  // under `lock`
    /// Entered by every thread the proxy starts; `stop()` waits for it.
    private let threads = DispatchGroup()
    private let gate = NSCondition()
    private var frozen = false  // under `gate`
    private var freezeTrigger: [UInt8]?  // under `gate`

    /// One forwarded connection: its two sockets, closed by whichever of its pumps ends last.
    private final class Link: @unchecked Sendable {  // runningPumps under the proxy's `lock`
        let client: Int32
        let server: Int32
        var runningPumps = 2
        init(client: Int32, server: Int32) { self.client = client; self.server = server }
    }

    /// Listens on an ephemeral port of 127.0.0.1 and forwards to 127.0.0.1:`upstreamPort`.
    public init(upstreamPort: Int, delay: TimeInterval) throws {
        (listener, port) = try LoopbackSocket.listen()
        spawn { [self] in acceptLoop(upstreamPort: upstreamPort, delay: delay) }
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

    /// Drops the listener and every connection (the client sees the link drop). Returns once
    /// every thread of the proxy has ended and closed its descriptors (they end within `delay`
    /// plus a moment: a shut-down socket fails every wait on it).
    public func stop() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            // shutdown, not close: it wakes the threads blocked on these sockets, which close
            // them once nothing uses them any more (see the type's comment).
            if !listenerClosed { shutdown(listener, Int32(SHUT_RDWR)) }
            for link in links.values {
                shutdown(link.client, Int32(SHUT_RDWR))
                shutdown(link.server, Int32(SHUT_RDWR))
            }
        }
        thaw()  // wakes pumps parked by a freeze, which then find their sockets shut down
        _ = threads.wait(timeout: .now() + 30)
    }

    /// Starts a thread the proxy owns; `stop()` waits for it to end.
    private func spawn(_ body: @escaping @Sendable () -> Void) {
        threads.enter()
        Thread { [threads] in
            body()
            threads.leave()
        }.start()
    }

    private func acceptLoop(upstreamPort: Int, delay: TimeInterval) {
        defer {
            lock.withLock {
                listenerClosed = true
                close(listener)
            }
        }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { if errno == EINTR || errno == ECONNABORTED { continue } else { return } }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let connected = server >= 0 && LoopbackSocket.connect(server, port: upstreamPort)
            let link = Link(client: client, server: server)
            let keep = lock.withLock {
                let keep = !closed && connected
                if keep { links[ObjectIdentifier(link)] = link }
                return keep
            }
            guard keep else { close(client); if server >= 0 { close(server) }; continue }
            spawn { [self] in pump(from: client, to: server, delay: delay, fromClient: true); finished(link) }
            spawn { [self] in pump(from: server, to: client, delay: delay, fromClient: false); finished(link) }
        }
    }

    /// A pump of `link` ended: the second one closes both sockets, which no thread uses any more.
    private func finished(_ link: Link) {
        lock.withLock {
            link.runningPumps -= 1
            guard link.runningPumps == 0 else { return }
            links[ObjectIdentifier(link)] = nil
            close(link.client)
            close(link.server)
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
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import Postgres
import TestSupport

/// The test proxy behind the slow- and frozen-link tests (TestSupport/SlowProxy.swift) shares
/// the test process with every other suite. Once stopped it must leave alone the descriptor
/// numbers it used: the kernel hands the lowest free number to the next socket anyone opens,
/// which in a full run is another test's PostgreSQL connection. (A pump woken after `stop()`
/// used to forward into or shut down such a socket: a 42 s sql-handler job in DeadWorkerTests
/// lost its connection to "server closed the connection unexpectedly".)
@Suite struct SlowProxyTests {
    /// A proxy stopped while one of its pumps holds a chunk ("held", kept half a second before
    /// it is forwarded); returns the client's socket, for the caller to close.
    private func stopWhileAChunkIsHeld(upstream: SilentListener) throws -> Int32 {
        let proxy = try SlowProxy(upstreamPort: upstream.port, delay: 0.5)
        let client = try LoopbackSocket.connect(port: proxy.port)
        #expect(send(client, "held", 4, Int32(MSG_NOSIGNAL)) == 4)
        Thread.sleep(forTimeInterval: 0.2)  // the pump has read the chunk and sleeps on it
        proxy.stop()
        return client
    }

    @Test func aStoppedProxyNeverTouchesTheDescriptorsItUsed() throws {
        // The upstream never accepts: the kernel completes the proxy's connect all the same.
        let upstream = try SilentListener()
        defer { upstream.close() }
        let client = try stopWhileAChunkIsHeld(upstream: upstream)
        defer { _ = Glibc.close(client) }

        // Take the lowest free descriptor numbers, as the next sockets another test opens would.
        var pairs: [[Int32]] = []
        defer { pairs.flatMap { $0 }.forEach { _ = Glibc.close($0) } }
        for _ in 0..<8 {
            var fds: [Int32] = [-1, -1]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            pairs.append(fds)
        }
        Thread.sleep(forTimeInterval: 1.0)  // past the pump's hold
        for fd in pairs.flatMap({ $0 }) {
            // Nothing written into them, nothing shut down: a read finds no byte and no EOF.
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            #expect(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "descriptor \(fd): read \(n) byte(s) after the proxy stopped")
        }
        // The proxy's own client saw its link drop, as before.
        var byte: UInt8 = 0
        #expect(recv(client, &byte, 1, Int32(MSG_DONTWAIT)) == 0, "the client sees the link closed")
    }

    /// The flake itself: PostgreSQL connections opened just after a stop (as another test's
    /// would be) keep working while the proxy's threads wind down.
    @Test func postgresConnectionsOpenedAfterAStopKeepTheirLinks() throws {
        try TestDatabase.with { db in
            let upstream = try SilentListener()
            defer { upstream.close() }
            let client = try stopWhileAChunkIsHeld(upstream: upstream)
            defer { _ = Glibc.close(client) }
            let connections = try (0..<3).map { _ in try db.connect() }
            defer { connections.forEach { $0.close() } }
            for round in 0..<3 {
                for conn in connections {
                    #expect(throws: Never.self, "round \(round)") { try conn.query("SELECT pg_sleep(0.2)") }
                }
            }
        }
    }

    @Test func stopReturnsOnceAFrozenLinkIsClosed() throws {
        let upstream = try SilentListener()
        defer { upstream.close() }
        let proxy = try SlowProxy(upstreamPort: upstream.port, delay: 0)
        proxy.freeze()
        let client = try LoopbackSocket.connect(port: proxy.port)
        defer { _ = Glibc.close(client) }
        #expect(send(client, "frozen", 6, Int32(MSG_NOSIGNAL)) == 6)
        Thread.sleep(forTimeInterval: 0.2)  // the pump holds the chunk, parked by the freeze
        let started = Date()
        proxy.stop()
        #expect(Date().timeIntervalSince(started) < 5, "stop waits for its threads, which a shut-down socket wakes")
        var byte: UInt8 = 0
        #expect(recv(client, &byte, 1, Int32(MSG_DONTWAIT)) == 0, "the client sees the link closed")
        // What was held in the freeze is dropped with the link, not forwarded after the stop.
        let server = accept(upstream.fd, nil, nil)
        defer { if server >= 0 { _ = Glibc.close(server) } }
        #expect(server >= 0)
        #expect(recv(server, &byte, 1, Int32(MSG_DONTWAIT)) <= 0, "the upstream got a held byte after the stop")
    }
}

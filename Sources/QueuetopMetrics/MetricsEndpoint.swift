import FlyingFox
import Foundation
import Synchronization

/// The HTTP side of every metrics process: `GET /metrics` answers with what `render` returns,
/// in the Prometheus text exposition format. FlyingFox does the HTTP; this only routes.
///
/// `render` runs on Swift's cooperative pool, so it must not block: a render that waits on the
/// database (the exporter) hands that work to a thread of its own (`SharedRead`).
public final class MetricsEndpoint: Sendable {
    /// The address actually bound (with the real port when 0 was asked for).
    public let address: ListenAddress
    private let server: HTTPServer
    private let serving: Task<Void, Never>

    /// Prometheus' text format, version 0.0.4.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private init(address: ListenAddress, server: HTTPServer, serving: Task<Void, Never>) {
        self.address = address; self.server = server; self.serving = serving
    }

    /// Binds `listen` and starts serving; blocks the calling thread (never one of Swift's
    /// cooperative pool) until it listens, or throws when it cannot bind.
    public static func start(listen: ListenAddress, render: @escaping @Sendable () async -> String) throws -> MetricsEndpoint {
        let outcome = Mutex<Result<MetricsEndpoint, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                let endpoint = try await start(listen, render: render)
                outcome.withLock { $0 = .success(endpoint) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    private static func start(_ listen: ListenAddress, render: @escaping @Sendable () async -> String) async throws -> MetricsEndpoint {
        let server: HTTPServer
        switch listen.host {
        case let .ipv4(ip): server = HTTPServer(address: try .inet(ip4: ip, port: listen.port), logger: .disabled)
        case let .ipv6(ip): server = HTTPServer(address: try .inet6(ip6: ip, port: listen.port), logger: .disabled)
        case .anyInterface: server = HTTPServer(address: .inet6(port: listen.port), logger: .disabled)
        }
        await server.appendRoute("GET /metrics") { _ in
            HTTPResponse(statusCode: .ok, headers: [.contentType: contentType], body: Data(await render().utf8))
        }
        // run() throws at once when the address cannot be bound, and otherwise returns only at stop().
        let failure = Mutex<(any Error)?>(nil)
        let serving = Task {
            do { try await server.run() } catch { failure.withLock { $0 = error } }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while await !server.isListening {
            if let error = failure.withLock({ $0 }) { throw MetricsEndpointError(address: listen, underlying: error) }
            guard ContinuousClock.now < deadline else {
                serving.cancel()
                throw MetricsEndpointError(address: listen, underlying: nil)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        var bound = listen
        switch await server.listeningAddress {
        case let .ip4(_, port), let .ip6(_, port): bound.port = port
        default: break
        }
        return MetricsEndpoint(address: bound, server: server, serving: serving)
    }

    /// Closes the listening socket and the open connections.
    public func stop() {
        let done = DispatchSemaphore(value: 0)
        let server = self.server, serving = self.serving
        Task.detached {
            await server.stop(timeout: 1)
            serving.cancel()
            done.signal()
        }
        done.wait()
    }
}

public struct MetricsEndpointError: Error, CustomStringConvertible {
    public let address: ListenAddress
    public let underlying: (any Error)?

    public var description: String {
        "cannot listen on \(address): " + (underlying.map { "\($0)" } ?? "not listening after 10 s")
    }
}

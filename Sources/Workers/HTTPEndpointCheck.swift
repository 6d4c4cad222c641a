import Foundation
import Postgres
#if canImport(Glibc)
import Glibc
#endif

/// Startup checks for an `http` handler's URL. A URL that cannot work (bad syntax, a host that
/// does not resolve) is a startup error; a host that resolves but refuses connections right now
/// is only a warning, because services restart and the jobs simply retry (connection_error,
/// and the circuit breaker opens if it lasts).
enum HTTPEndpointCheck {
    static func parse(_ text: String, handler: String, source: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty else {
            throw WorkerConfigError("\(source): handler \"\(handler)\": \"url\" must be an http:// or https:// URL with a host, got \"\(redactingURLCredentials(text))\"")
        }
        return url
    }

    /// Throws when the host does not resolve; returns a warning when nothing listens on the port.
    static func reachability(_ url: URL, handler: String, source: String, timeout: Double = 2) throws -> String? {
        let host = url.host ?? ""
        let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            throw WorkerConfigError("\(source): handler \"\(handler)\": cannot resolve host \(host) (\(reason)); check the URL and DNS")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 { return nil }
        guard errno == EINPROGRESS else {
            return "handler \"\(handler)\": \(host):\(port) refuses connections now (\(String(cString: strerror(errno)))); jobs will retry"
        }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else {
            return "handler \"\(handler)\": \(host):\(port) did not answer within \(Int(timeout)) s; jobs will retry"
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? nil
            : "handler \"\(handler)\": \(host):\(port) refuses connections now (\(String(cString: strerror(error)))); jobs will retry"
    }
}

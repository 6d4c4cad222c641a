import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// A tiny HTTP/1.1 server on 127.0.0.1 for the http handler's tests. Each request is answered by
/// path: /ok 200, /429 (Retry-After: 7), /503-date (Retry-After as an HTTP date), /500, /404,
/// /slow (answers after 5 s), /hang (never answers), /reset (closes the socket without answering).
final class LoopbackHTTPServer: @unchecked Sendable {  // fd set once in init, closed by the accept loop; bodies under lock
    let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var _bodies: [String] = []
    private var _requests: [Request] = []
    private var _abandoned = 0
    private let listenerClosed = DispatchSemaphore(value: 0)
    private var _shutDown = false

    /// How many /hang requests the client closed without an answer (an aborted request).
    var abandoned: Int { lock.withLock { _abandoned } }

    var bodies: [String] { lock.withLock { _bodies } }
    /// Every request in arrival order, with its headers (names lowercased).
    var requests: [Request] { lock.withLock { _requests } }

    struct Request: Sendable {
        let path: String
        let headers: [String: String]
        let body: String
    }

    init() throws {
        signal(SIGPIPE, SIG_IGN)  // a client that gave up must not kill the test process
        (fd, port) = try LoopbackSocket.listen(reuseAddress: true)
        Thread { self.acceptLoop() }.start()
    }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    /// Stops listening. Only the accept loop closes the socket, once it has returned from
    /// accept: closing it here could hand its number to another test's new socket (PostgreSQL
    /// connections included: every suite shares this process) while the loop still calls
    /// accept on it. Returns once the port refuses connections.
    func shutdown() {
        let first = lock.withLock { defer { _shutDown = true }; return !_shutDown }
        guard first else { return }
        Glibc.shutdown(fd, Int32(SHUT_RDWR))  // wakes the accept loop
        listenerClosed.wait()
    }

    /// A port with nothing listening: bind, read the port, close.
    static func refusedPort() -> Int {
        let server = try! LoopbackHTTPServer()
        let port = server.port
        server.shutdown()
        return port
    }

    private func acceptLoop() {
        defer { close(fd); listenerClosed.signal() }
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { if errno == EINTR || errno == ECONNABORTED { continue } else { return } }
            Thread { self.serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { return }
            data += buffer[0..<n]
            if headerEnd == nil, let range = findHeaderEnd(data) {
                headerEnd = range
                let head = String(decoding: data[0..<range], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let end = headerEnd, data.count >= end + 4 + contentLength { break }
        }
        let text = String(decoding: data, as: UTF8.self)
        let requestLine = text.split(separator: "\r\n").first.map(String.init) ?? ""
        let path = requestLine.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let body = String(decoding: data[(headerEnd! + 4)...], as: UTF8.self)
        var requestHeaders: [String: String] = [:]
        for line in String(decoding: data[0..<headerEnd!], as: UTF8.self).split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            requestHeaders[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        lock.withLock {
            _bodies.append(body)
            _requests.append(Request(path: path, headers: requestHeaders, body: body))
        }
        let response: (Int, [String], String)
        switch path {
        case "/ok": response = (200, [], "{\"ok\":true}")
        case "/429": response = (429, ["Retry-After: 7"], "slow down")
        case "/503-date":
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            response = (503, ["Retry-After: \(formatter.string(from: Date().addingTimeInterval(120)))"], "maintenance")
        case "/500": response = (500, [], String(repeating: "x", count: 10_000))
        case "/404": response = (404, [], "no such function")
        case "/slow": Thread.sleep(forTimeInterval: 5); response = (200, [], "late")
        case "/hang":
            // Never answers: waits until the client gives up and closes the connection.
            var byte: UInt8 = 0
            while read(client, &byte, 1) > 0 {}
            lock.withLock { _abandoned += 1 }
            return
        case "/reset":
            var linger = linger(l_onoff: 1, l_linger: 0)  // RST instead of FIN
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            return
        default: response = (404, [], "unknown path")
        }
        let (status, headers, payload) = response
        var out = "HTTP/1.1 \(status) X\r\nContent-Length: \(payload.utf8.count)\r\nConnection: close\r\n"
        for header in headers { out += header + "\r\n" }
        out += "\r\n" + payload
        _ = out.withCString { write(client, $0, strlen($0)) }
    }

    private func findHeaderEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for i in 0...(data.count - 4) where data[i] == 13 && data[i + 1] == 10 && data[i + 2] == 13 && data[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// Where an HTTP endpoint listens: `--metrics-listen` / `--listen` as `HOST:PORT`. HOST is an
/// IPv4 address, an IPv6 address in brackets (`[::1]:9464`), `localhost`, or empty for every
/// interface (`:9464`); PORT 0 picks a free port (the process logs the one it got).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Host: Sendable, Equatable {
        case ipv4(String)
        case ipv6(String)
        case anyInterface
    }

    public var host: Host
    public var port: UInt16

    public init(host: Host, port: UInt16) { self.host = host; self.port = port }

    /// Parses `HOST:PORT`; the error says what is wrong in one line.
    public init(parsing text: String) throws(ListenAddressError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ListenAddressError("\(text.debugDescription) is not HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464 or :9464 for every interface)")
        }
        let hostText = String(text[..<colon]), portText = String(text[text.index(after: colon)...])
        guard let port = UInt16(portText) else {
            throw ListenAddressError("\(text.debugDescription): the port must be a number from 0 to 65535")
        }
        switch hostText {
        case "": host = .anyInterface
        case "localhost": host = .ipv4("127.0.0.1")
        case _ where hostText.hasPrefix("[") && hostText.hasSuffix("]"):
            let inner = String(hostText.dropFirst().dropLast())
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw ListenAddressError("\(text.debugDescription): \(hostText) is not an IPv6 address")
            }
            host = .ipv6(inner)
        default:
            let parts = hostText.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else {
                throw ListenAddressError("\(text.debugDescription): the host must be an IPv4 address, [IPv6], localhost or empty")
            }
            host = .ipv4(hostText)
        }
        self.port = port
    }

    public var description: String {
        switch host {
        case let .ipv4(ip): return "\(ip):\(port)"
        case let .ipv6(ip): return "[\(ip)]:\(port)"
        case .anyInterface: return ":\(port)"
        }
    }
}

public struct ListenAddressError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

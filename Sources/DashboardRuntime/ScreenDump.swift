import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `:dump FILE`: the screen as drawn, as plain text (no escape sequence, no colour), for the
/// incident record. An existing file is never replaced unless the operator said `:dump!`, and
/// the check is the open itself (O_EXCL), so a file created meanwhile is not overwritten either.
public enum ScreenDump {
    /// Writes `text` and a final newline to `path` (`~/` is the home directory; a relative path
    /// is the dashboard's working directory's). Returns the footer's line: what was written
    /// where, or why nothing was.
    public static func write(_ text: String, to path: String, overwrite: Bool,
                             home: String? = ProcessInfo.processInfo.environment["HOME"]) -> (ok: Bool, message: String) {
        let expanded = path.hasPrefix("~/") ? (home.map { $0 + String(path.dropFirst(1)) } ?? path) : path
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW
        flags |= overwrite ? O_TRUNC : O_EXCL
        let fd = open(expanded, flags, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST {
                return (false, "\(path) exists; :dump! \(path) replaces it")
            }
            if code == ELOOP {
                return (false, "cannot write \(path): it is a symbolic link (dump to the real path)")
            }
            return (false, "cannot write \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return (false, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        return (true, "screen written to \(path) (\(lines) lines, plain text)")
    }
}

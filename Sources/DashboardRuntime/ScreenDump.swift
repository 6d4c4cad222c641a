import Foundation
import Postgres
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `:dump FILE`: the screen as drawn, as plain text (no escape sequence, no colour), for the
/// incident record. An existing file is never replaced unless the operator said `:dump!`, and
/// the check is the open itself (O_EXCL), so a file created meanwhile is not overwritten either.
///
/// The screen shows payloads, error messages and tenants: the file is created 0600 (only its
/// owner reads it, whatever the umask) and a replaced file of the operator's own is set to 0600
/// too. Only a regular file is written: a FIFO, a device or a socket planted at the path is
/// refused before anything is written (the open does not wait for a FIFO's reader), and a
/// path with a control character is refused outright (it would make a file name that hides
/// what it is in a directory listing).
public enum ScreenDump {
    /// Writes `text` and a final newline to `path` (`~/` is the home directory; a relative path
    /// is the dashboard's working directory's). Returns the footer's line: what was written
    /// where, or why nothing was.
    public static func write(_ text: String, to path: String, overwrite: Bool,
                             home: String? = ProcessInfo.processInfo.environment["HOME"]) -> (ok: Bool, message: String) {
        if path.unicodeScalars.contains(where: SafeText.isUnsafe) {
            return (false, "cannot write \(SafeText.oneLine(path)): the path contains a control character")
        }
        let expanded = path.hasPrefix("~/") ? (home.map { $0 + String(path.dropFirst(1)) } ?? path) : path
        // O_NONBLOCK: opening a FIFO for writing would otherwise wait for a reader, forever.
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK
        // O_TRUNC is left to ftruncate below, after the file is known to be a regular file.
        if !overwrite { flags |= O_EXCL }
        let fd = open(expanded, flags, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST {
                return (false, "\(path) exists; :dump! \(path) replaces it")
            }
            if code == ELOOP {
                return (false, "cannot write \(path): it is a symbolic link (dump to the real path)")
            }
            if code == ENXIO {
                return (false, "cannot write \(path): it is not a regular file (a FIFO or a socket)")
            }
            return (false, "cannot write \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return (false, "cannot write \(path): \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return (false, "cannot write \(path): it is not a regular file (a FIFO, a device or a socket)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        if overwrite {
            guard ftruncate(fd, 0) == 0 else { return (false, "cannot write \(path): \(String(cString: strerror(errno)))") }
            // A file of the operator's own that others could read gets the dump's mode; one of
            // another owner (writable through its group) keeps its own, which is not ours to set.
            if info.st_uid == geteuid(), info.st_mode & 0o077 != 0 { _ = fchmod(fd, 0o600) }
        }
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

import Foundation

/// Masks passwords in this process's own argument vector, so `ps` and /proc/PID/cmdline show
/// `postgres://app:********@db/…` instead of the secret given with `--db`.
///
/// The kernel reports a process's command line from the argv memory the process was started
/// with; overwriting those bytes in place (same length, so nothing moves) is what `postgres`
/// itself and many daemons do. Until `main` runs, a listing can still catch the original: the
/// safe ways to pass a password remain DATABASE_URL, PGPASSWORD or ~/.pgpass (docs/RELIABILITY.md).
/// ArgumentParser reads `CommandLine.arguments`, a Swift copy made before this runs, so parsing
/// still sees the real value.
enum ArgvPasswordMask {
    static func apply() {
        let argc = Int(CommandLine.argc)
        let argv = CommandLine.unsafeArgv
        for i in 1..<max(argc, 1) {
            guard let raw = argv[i] else { continue }
            let length = strlen(raw)
            let bytes = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(raw).assumingMemoryBound(to: UInt8.self),
                                                   count: length)
            for range in passwordRanges(in: Array(bytes)) {
                for j in range { bytes[j] = UInt8(ascii: "*") }
            }
        }
    }

    /// Byte ranges that hold a password in one argument: the `password` of a
    /// `scheme://user:password@host` URI, and the value of `password=` or `sslpassword=` in a URI
    /// query string or a `key=value` conninfo string (quoted or not). Other arguments yield nothing.
    static func passwordRanges(in arg: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        let text = String(decoding: arg, as: UTF8.self)
        guard text.utf8.count == arg.count else { return [] }  // not UTF-8: not a connection string
        // URI userinfo: between the first ':' after "://" and the last '@' before the host part.
        if let scheme = text.range(of: "://") {
            let afterScheme = text.utf8.distance(from: text.startIndex, to: scheme.upperBound)
            let authorityEnd = arg[afterScheme...].firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) ?? arg.count
            if let at = arg[afterScheme..<authorityEnd].lastIndex(of: UInt8(ascii: "@")),
               let colon = arg[afterScheme..<at].firstIndex(of: UInt8(ascii: ":")), colon + 1 < at {
                ranges.append((colon + 1)..<at)
            }
        }
        // password=VALUE and sslpassword=VALUE (the client key's passphrase): URI query
        // parameter or conninfo keyword.
        for key in [Array("password".utf8), Array("sslpassword".utf8)] {
            var i = 0
            while i + key.count < arg.count {
                let startsWord = i == 0 || [UInt8(ascii: " "), UInt8(ascii: "?"), UInt8(ascii: "&"), UInt8(ascii: "\t")].contains(arg[i - 1])
                if startsWord, Array(arg[i..<(i + key.count)]) == key {
                    var j = i + key.count
                    while j < arg.count, arg[j] == UInt8(ascii: " ") { j += 1 }
                    if j < arg.count, arg[j] == UInt8(ascii: "=") {
                        j += 1
                        while j < arg.count, arg[j] == UInt8(ascii: " ") { j += 1 }
                        let quoted = j < arg.count && arg[j] == UInt8(ascii: "'")
                        let start = quoted ? j + 1 : j
                        var end = start
                        while end < arg.count {
                            let c = arg[end]
                            if quoted ? c == UInt8(ascii: "'") && arg[end - 1] != UInt8(ascii: "\\")
                                      : c == UInt8(ascii: " ") || c == UInt8(ascii: "&") || c == UInt8(ascii: "\t") { break }
                            end += 1
                        }
                        if end > start { ranges.append(start..<end) }
                        i = end
                        continue
                    }
                }
                i += 1
            }
        }
        return ranges
    }
}

import Foundation
import Postgres

/// Times on the command line and in `enqueue --from`: RFC 3339 / ISO 8601 with a zone,
/// `2026-11-04T10:00:00Z`, `2026-11-04T10:00:00.250+01:00` (a space may replace the `T`). Every
/// field is checked (no 2026-02-30 rolling over to March 2, no hour 24) and the time must lie
/// between 1970-01-01 and 9999-12-31 UTC, the range the database accepts, so nothing outside it
/// is ever sent (and nothing traps on the arithmetic).
enum TimeArgument {
    static let earliest = Date(timeIntervalSince1970: 0)
    /// 10000-01-01T00:00:00Z, exclusive.
    static let end = Date(timeIntervalSince1970: 253_402_300_800)

    static func parse(_ text: String, option: String) throws -> Date {
        let example = "expected an ISO 8601 time with a zone, such as 2026-11-04T10:00:00Z"
        let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
        let b = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var v = 0
            for c in b[start..<start + count] {
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        func byte(_ i: Int) -> UInt8? { i < b.count ? b[i] : nil }
        // The year: 4 or more digits (up to 9, so a far-future year is refused for its range, not its form).
        var y = 0
        while y < b.count, y < 10, b[y] >= 48, b[y] <= 57 { y += 1 }
        guard (4...9).contains(y), let year = digits(0, y), byte(y) == UInt8(ascii: "-"),
              let month = digits(y + 1, 2), byte(y + 3) == UInt8(ascii: "-"), let day = digits(y + 4, 2),
              let sep = byte(y + 6), [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(sep),
              let hour = digits(y + 7, 2), byte(y + 9) == UInt8(ascii: ":"), let minute = digits(y + 10, 2),
              byte(y + 12) == UInt8(ascii: ":"), let second = digits(y + 13, 2) else {
            throw CLIError("\(option) \(shown): \(example)")
        }
        var i = y + 15
        var fraction = 0.0
        if byte(i) == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1, count = 0
            while let c = byte(i), c >= 48, c <= 57 { fraction += Double(c - 48) * scale; scale /= 10; i += 1; count += 1 }
            guard (1...9).contains(count) else { throw CLIError("\(option) \(shown): \(example)") }
        }
        var offset = 0
        switch byte(i) {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = byte(i) == UInt8(ascii: "+") ? 1 : -1
            guard let oh = digits(i + 1, 2), byte(i + 3) == UInt8(ascii: ":"), let om = digits(i + 4, 2),
                  oh <= 23, om <= 59 else {
                throw CLIError("\(option) \(shown): the zone offset must be ±HH:MM, e.g. +01:00")
            }
            offset = sign * (oh * 3600 + om * 60)
            i += 6
        default:
            throw CLIError("\(option) \(shown): \(example) (the zone, Z or ±HH:MM, is required)")
        }
        guard i == b.count else { throw CLIError("\(option) \(shown): \(example)") }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else {
            throw CLIError("\(option) \(shown): there is no such date")
        }
        guard hour <= 23, minute <= 59, second <= 59 else {
            throw CLIError("\(option) \(shown): there is no such time of day (00:00:00 to 23:59:59)")
        }
        guard (1969...10000).contains(year) else { throw outOfRange(option, shown) }
        let days = PostgresTimestamp.daysFromCivil(year: year, month: month, day: day)
        let date = Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction)
        guard date >= earliest, date < end else { throw outOfRange(option, shown) }
        return date
    }

    private static func outOfRange(_ option: String, _ shown: String) -> CLIError {
        CLIError("\(option) \(shown): the time must be between 1970-01-01 and 9999-12-31 (UTC)")
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// Whole numbers on the command line and in `--from`, checked against the range the database
/// accepts, with a message naming the option or field.
enum IntegerArgument {
    static func check(_ value: Int, _ range: ClosedRange<Int>, name: String) throws -> Int {
        guard range.contains(value) else {
            throw CLIError("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }
}

/// The payload cap the database enforces (`_enqueue`: 1 MiB of jsonb text per job), checked
/// before anything is sent.
enum PayloadLimit {
    static let bytes = 1_048_576
    /// A line of `--from` longer than this cannot hold a job within the cap (the payload plus
    /// its few short fields): it is refused without reading the rest of it.
    static let lineBytes = 2 * bytes

    /// The size of `json` without the whitespace between tokens: a lower bound of the size the
    /// database measures (it prints jsonb with a space after `:` and `,`), so a payload this
    /// refuses the database would refuse too. Linear in the text, whatever its depth.
    static func compactSize(_ json: String) -> Int {
        var size = 0, inString = false, escaped = false
        for c in json.utf8 {
            if inString {
                size += 1
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
            } else if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                continue
            } else {
                size += 1
                if c == UInt8(ascii: "\"") { inString = true }
            }
        }
        return size
    }

    /// `what`: "payload" (--payload) or "line 12: payload" (--from).
    static func check(_ json: String, what: String) throws {
        let size = compactSize(json)
        guard size <= bytes else {
            throw CLIError("\(what) is \(size) bytes; the limit is 1 MiB (1048576 bytes); nothing was enqueued")
        }
    }
}

/// Reads lines from a file or stdin in chunks, refusing a line longer than `maxLineBytes` as
/// soon as it is seen (a 500 MB one-line file costs 2 MiB of memory, not 500 MB).
enum BoundedLines {
    static func read(_ path: String, maxLineBytes: Int) throws -> [String] {
        let handle: FileHandle
        if path == "-" { handle = FileHandle.standardInput }
        else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CLIError("cannot read \(path): it is a directory")
            }
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw CLIError("cannot read \(path): no such file or not readable")
            }
            handle = h
        }
        defer { if path != "-" { try? handle.close() } }
        var lines: [String] = []
        var current = Data()
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 64 * 1024) ?? Data() } catch {
                throw CLIError("cannot read \(path == "-" ? "standard input" : path): \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            let bytes = [UInt8](chunk)
            var start = 0
            while true {
                // memchr: a debug build's byte-by-byte search takes seconds on a long line.
                let newline: Int? = bytes.withUnsafeBufferPointer { buffer in
                    guard start < buffer.count, let base = buffer.baseAddress,
                          let hit = memchr(base + start, 0x0A, buffer.count - start) else { return nil }
                    return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
                }
                current.append(contentsOf: bytes[start..<(newline ?? bytes.count)])
                if current.count > maxLineBytes {
                    throw CLIError("line \(lines.count + 1) is longer than \(maxLineBytes / 1_048_576) MiB; a job's payload "
                                   + "may be at most 1 MiB (1048576 bytes); nothing was enqueued")
                }
                guard let newline else { break }
                lines.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
                start = newline + 1
            }
        }
        if !current.isEmpty { lines.append(String(decoding: current, as: UTF8.self)) }
        return lines
    }
}

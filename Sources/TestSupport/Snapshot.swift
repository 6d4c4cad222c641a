import Foundation

/// Golden-file snapshots for text screens (the tig / ratatui way: render to text, compare with a
/// file checked into the repository).
///
/// Goldens live in a `Snapshots` folder next to the calling test file, found through `#filePath`
/// so no resource bundle is needed. Run with `QUEUETOP_RECORD_SNAPSHOTS=1` to (re)write them; a
/// missing golden fails, it never passes silently.
public enum Snapshot {
    public static let recordVariable = "QUEUETOP_RECORD_SNAPSHOTS"

    /// A snapshot that did not match, or does not exist yet. Thrown so that any test framework
    /// reports it with its message.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// True when the environment asks to rewrite goldens.
    public static var isRecording: Bool {
        ProcessInfo.processInfo.environment[recordVariable] == "1"
    }

    /// The golden file for `name` beside the test file `filePath`.
    public static func goldenURL(named name: String, filePath: StaticString) -> URL {
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return URL(fileURLWithPath: "\(filePath)")
            .deletingLastPathComponent()
            .appendingPathComponent("Snapshots")
            .appendingPathComponent(safe + ".txt")
    }

    /// Compares `actual` with the golden `name`; in record mode writes it instead and says so.
    public static func verify(_ actual: String, named name: String, filePath: StaticString = #filePath) throws {
        let url = goldenURL(named: name, filePath: filePath)
        let content = actual.hasSuffix("\n") ? actual : actual + "\n"
        if isRecording {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let previous = try? String(contentsOf: url, encoding: .utf8)
            if previous != content {
                try content.write(to: url, atomically: true, encoding: .utf8)
                FileHandle.standardError.write(Data("recorded snapshot \(url.path)\n".utf8))
            }
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            throw Failure(description: """
                missing snapshot \(url.path)
                Record it with: \(recordVariable)=1 swift test --filter <this test>, then review the file and commit it.
                Actual output:
                \(content)
                """)
        }
        guard expected != content else { return }
        throw Failure(description: "snapshot \(name) differs from \(url.path)\n" + describeDifference(expected: expected, actual: content)
            + "\nIf the change is intended, re-record with \(recordVariable)=1.")
    }

    /// A line-by-line account of the first differences, with `|` marking line ends so trailing
    /// spaces and missing characters are visible.
    public static func describeDifference(expected: String, actual: String, limit: Int = 8) -> String {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var report: [String] = []
        for i in 0..<max(e.count, a.count) {
            let left = i < e.count ? String(e[i]) : "<no line>"
            let right = i < a.count ? String(a[i]) : "<no line>"
            guard left != right else { continue }
            report.append("line \(i + 1):\n  expected |\(left)|\n  actual   |\(right)|")
            if report.count == limit {
                report.append("…")
                break
            }
        }
        return report.joined(separator: "\n") + "\nActual output:\n" + actual
    }
}

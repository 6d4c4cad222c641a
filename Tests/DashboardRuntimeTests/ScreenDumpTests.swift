import DashboardRuntime
import Foundation
import Testing

/// `:dump FILE`: plain text written, an existing file refused unless `:dump!`, a symbolic link
/// never followed, and a path that cannot be written reported (nothing written anywhere else).
@Suite struct ScreenDumpTests {
    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesRefusesToOverwriteAndOverwritesOnlyWithBang() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("screen.txt").path
        let first = ScreenDump.write("line 1\nline 2", to: path, overwrite: false)
        #expect(first.ok && first.message == "screen written to \(path) (2 lines, plain text)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "line 1\nline 2\n")
        let again = ScreenDump.write("other", to: path, overwrite: false)
        #expect(!again.ok && again.message == "\(path) exists; :dump! \(path) replaces it")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "line 1\nline 2\n", "refused means untouched")
        #expect(ScreenDump.write("other", to: path, overwrite: true).ok)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "other\n")
    }

    @Test func badPathsAndLinksAreReportedAndNothingIsWritten() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = ScreenDump.write("x", to: dir.appendingPathComponent("no/such/dir/f.txt").path, overwrite: false)
        #expect(!missing.ok && missing.message.contains("No such file or directory"))
        let isDir = ScreenDump.write("x", to: dir.path, overwrite: true)
        #expect(!isDir.ok && isDir.message.hasPrefix("cannot write"))
        // A link planted where the dump goes is not followed, even with `!`.
        let target = dir.appendingPathComponent("target")
        try "keep".write(to: target, atomically: true, encoding: .utf8)
        let link = dir.appendingPathComponent("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target.path)
        let viaLink = ScreenDump.write("x", to: link, overwrite: true)
        #expect(!viaLink.ok && viaLink.message.contains("symbolic link"))
        #expect(try String(contentsOf: target, encoding: .utf8) == "keep")
        // ~/ is the home directory.
        let home = ScreenDump.write("x", to: "~/h.txt", overwrite: false, home: dir.path)
        #expect(home.ok && FileManager.default.fileExists(atPath: dir.appendingPathComponent("h.txt").path))
    }
}

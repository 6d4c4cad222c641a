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

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    /// Attacker's view: the screen holds payloads and errors; another user of the machine must
    /// not read the dump, whatever the operator's umask, and a replaced dump of theirs too.
    @Test func theDumpIsReadableByItsOwnerOnly() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = umask(0)
        defer { umask(old) }
        let path = dir.appendingPathComponent("screen.txt").path
        #expect(ScreenDump.write("secret payload", to: path, overwrite: false).ok)
        #expect(try mode(path) == 0o600)
        let replaced = dir.appendingPathComponent("old.txt").path
        #expect(FileManager.default.createFile(atPath: replaced, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644]))
        #expect(ScreenDump.write("secret payload", to: replaced, overwrite: true).ok)
        #expect(try mode(replaced) == 0o600)
        #expect(try String(contentsOfFile: replaced, encoding: .utf8) == "secret payload\n")
    }

    /// A FIFO planted at the path would hang the dashboard in open() (no reader) or feed the
    /// screen to whoever reads it; a device would get the text. Refused at once, with `!` too.
    @Test func aFIFOOrADeviceIsRefusedWithoutWaiting() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let forced = ScreenDump.write("x", to: fifo, overwrite: true)
        #expect(!forced.ok && forced.message.contains("not a regular file"))
        #expect(!ScreenDump.write("x", to: fifo, overwrite: false).ok)
        let device = ScreenDump.write("x", to: "/dev/null", overwrite: true)
        #expect(!device.ok && device.message.contains("not a regular file"))
    }

    /// A path with an escape or a newline is refused, nothing is created, and the footer's
    /// message shows the control characters as escapes.
    @Test func aPathWithControlCharactersIsRefused() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.path + "/a\u{1B}]0;pwned\u{07}\nb.txt"
        let result = ScreenDump.write("x", to: path, overwrite: false)
        #expect(!result.ok && result.message.contains("control character"))
        #expect(!result.message.unicodeScalars.contains { $0.value < 0x20 })
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}

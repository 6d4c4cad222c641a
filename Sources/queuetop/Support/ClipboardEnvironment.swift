import Foundation
import TerminalUI

/// What `y` needs to know about the terminal: TERM, and whether tmux or GNU screen sits in
/// between. Inside tmux, its `set-clipboard` server option decides whether an application's
/// OSC 52 goes anywhere, so it is asked (on every `y`: the operator may have just turned it on).
enum ClipboardEnvironment {
    static func current(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Clipboard.Environment {
        let inTmux = !(env["TMUX"] ?? "").isEmpty
        return Clipboard.Environment(term: env["TERM"], insideTmux: inTmux,
                                     tmuxSetClipboard: inTmux ? tmuxSetClipboard() : nil,
                                     insideScreen: !(env["STY"] ?? "").isEmpty)
    }

    /// `tmux show-options -sv set-clipboard`, or nil when tmux cannot be asked.
    private static func tmuxSetClipboard() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tmux", "show-options", "-sv", "set-clipboard"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

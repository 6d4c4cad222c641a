import Foundation
import TestSupport
import Testing

/// Starting the real dashboard in a tmux shell and checking the shell got its terminal back,
/// shared by the end-to-end and the fault tests.
extension TmuxSession {
    /// Starts `queuetop <arguments> --db "$QT_DB"` from the session's shell (QT_BIN and QT_DB
    /// in its environment); the shell prints the exit status afterwards. `environment` is set
    /// on the command line, where it wins even over the TERM tmux gives every pane. A terminal
    /// without an alternate screen (TERM=dumb, driven as a VT100) sets `alternateScreen: false`.
    func launchDashboard(_ arguments: String, environment: [String: String] = [:], alternateScreen: Bool = true) throws {
        let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)='\($0.value)' " }.joined()
        try type("\(assignments)\"$QT_BIN\" \(arguments) --db \"$QT_DB\"; echo \"exit=$?\"", enter: true)
        guard alternateScreen else { return }
        #expect(waitFor(timeout: 20) { _ in self.alternateScreenOn } != nil, "the dashboard took over the screen")
    }

    /// Back at the shell: the dashboard exited 0, the terminal left the alternate screen, and
    /// (when the pane is tall enough to still show them) the shell's lines from before are back.
    /// Returns the seconds it took.
    @discardableResult
    func expectRestoredShell(timeout: Double = 20, shellLinesVisible: Bool = true) -> Double {
        let started = Date()
        // The status line the shell prints, not the typed command (which contains "exit=" too).
        func status(_ screen: String) -> Substring? { screen.split(separator: "\n").first { $0.hasPrefix("exit=") } }
        // The shell prints the status line, then its prompt: wait for both, or a capture taken
        // between the two fails on a loaded machine.
        func atPrompt(_ screen: String) -> Bool { screen.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("$") }
        let screen = waitFor(timeout: timeout) { status($0) != nil && atPrompt($0) && !self.alternateScreenOn }
        #expect(screen.flatMap(status) == "exit=0", "exit status: \(screen ?? self.screen())")
        if shellLinesVisible {
            #expect(screen?.contains("\"$QT_BIN\"") == true, "the shell's own lines are back")
        }
        #expect(screen.map(atPrompt) == true, "back at the prompt")
        return Date().timeIntervalSince(started)
    }
}

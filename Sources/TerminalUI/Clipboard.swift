import Foundation
import Postgres

/// `y` in the dashboard: the OSC 52 sequence that asks the terminal to put text on the system
/// clipboard, and whether this terminal is known not to take it.
///
/// The text travels base64-encoded, so no byte of a hostile payload (an escape, a BEL that would
/// end the sequence early, a C1 control) ever reaches the terminal raw.
public enum Clipboard {
    /// The largest text sent, in bytes before base64 (74,994 bytes make 99,992 base64
    /// characters): several terminals and tmux drop longer OSC 52 sequences without a word, which
    /// would read as "copied" while nothing was.
    public static let maximumBytes = 74_994

    /// Why the text cannot be sent, in the footer's words; nil when the sequence may be sent.
    public enum Refusal: Sendable, Equatable {
        /// The terminal (or tmux, or screen, in between) is known to drop OSC 52.
        case terminal(String)
        case tooLong(bytes: Int)
    }

    /// What the session knows about the terminal, read from its environment (and, inside tmux,
    /// from `tmux show-options -sv set-clipboard`, which the caller runs).
    public struct Environment: Sendable, Equatable {
        public var term: String?
        public var insideTmux: Bool
        /// tmux's `set-clipboard` ("on", "external", "off"); nil when unknown or outside tmux.
        public var tmuxSetClipboard: String?
        public var insideScreen: Bool
        public init(term: String?, insideTmux: Bool, tmuxSetClipboard: String?, insideScreen: Bool) {
            self.term = term; self.insideTmux = insideTmux; self.tmuxSetClipboard = tmuxSetClipboard
            self.insideScreen = insideScreen
        }
    }

    /// nil: send it. Inside tmux only `set-clipboard on` lets an application's OSC 52 through
    /// ("external" is for tmux's own copy mode); GNU screen and the Linux console drop it.
    /// Anything else is assumed to take it: a terminal never answers OSC 52, so there is no way
    /// to ask, and most terminal emulators in use (xterm with allowWindowOps, iTerm2, kitty,
    /// WezTerm, Alacritty, Windows Terminal, foot) accept it.
    public static func refusal(bytes: Int, in env: Environment) -> Refusal? {
        if env.insideTmux {
            guard env.tmuxSetClipboard == "on" else {
                return .terminal("tmux passes OSC 52 on only with `set -s set-clipboard on` (it is \(env.tmuxSetClipboard ?? "unknown") here)")
            }
        } else if env.insideScreen {
            return .terminal("GNU screen does not pass OSC 52 on")
        } else if let term = env.term, ["linux", "dumb", "vt100", "vt220", "cons25"].contains(term) || term.isEmpty {
            return .terminal("this terminal (\(term.isEmpty ? "no TERM" : "TERM=" + term)) does not accept OSC 52")
        }
        if bytes > maximumBytes { return .tooLong(bytes: bytes) }
        return nil
    }

    /// ESC ] 52 ; c ; <base64> BEL: "c" is the clipboard selection.
    public static func osc52(_ text: String) -> [UInt8] {
        Array("\u{1B}]52;c;".utf8) + Array(Data(text.utf8).base64EncodedString().utf8) + [0x07]
    }

    /// The footer's line after `y`: what was copied, or why not and the text itself (shortened)
    /// so the operator can still select it with the mouse.
    public static func report(what: String, text: String, refusal: Refusal?) -> String {
        switch refusal {
        case nil:
            return "copied \(what) to the clipboard (OSC 52)"
        case .terminal(let why):
            return "\(why) - \(what): \(SafeText.oneLine(text.count > 200 ? String(text.prefix(200)) + "..." : text))"
        case .tooLong(let bytes):
            return "\(what) is \(bytes) bytes, more than a terminal clipboard takes (\(maximumBytes)); save it with :dump FILE"
        }
    }
}

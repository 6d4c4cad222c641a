/// A key press, independent of curses, so reducers and tests can speak about keys without
/// a terminal. The Curses module produces these.
public enum Key: Hashable, Sendable, CustomStringConvertible {
    case character(Character)
    /// Ctrl plus a letter, e.g. `.control("l")` for Ctrl-L (redraw). Lower-case letter.
    case control(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, backspace, tab, backTab, delete, insert
    case function(Int)
    /// The terminal changed size; the next frame should be laid out again.
    case resize
    /// Anything the decoder did not recognise (its raw code), so nothing is silently lost.
    case unknown(Int)

    /// How a key is named in help and footers.
    public var description: String {
        switch self {
        case .character(" "): return "Space"
        case .character(let c): return String(c)
        case .control(let c): return "^" + String(c).uppercased()
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .backspace: return "Backspace"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .delete: return "Del"
        case .insert: return "Ins"
        case .function(let n): return "F\(n)"
        case .resize: return "Resize"
        case .unknown(let code): return "key \(code)"
        }
    }

    /// Decodes a plain character code (not a curses KEY_ code): control bytes become the
    /// named keys terminals actually send for them.
    public static func fromCharacterCode(_ code: UInt32) -> Key {
        switch code {
        case 0x0D, 0x0A: return .enter
        case 0x1B: return .escape
        case 0x09: return .tab
        case 0x7F, 0x08: return .backspace
        case 0x01...0x1A: return .control(Character(Unicode.Scalar(code + 0x60)!))
        default:
            guard let scalar = Unicode.Scalar(code) else { return .unknown(Int(code)) }
            return .character(Character(scalar))
        }
    }
}

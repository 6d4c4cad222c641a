import Testing
import TerminalUI

@Suite struct GlyphAndThemeTests {
    /// A `LANG=C` terminal must never receive a non-ASCII byte from the frame itself.
    @Test func asciiGlyphsAreAllASCII() {
        let g = GlyphSet.ascii
        let all: [Character] = [g.horizontal, g.vertical, g.topLeft, g.topRight, g.bottomLeft, g.bottomRight,
                                g.ellipsis, g.bullet, g.separator, g.mark, g.cursor, g.progressFilled,
                                g.progressEmpty, g.arrowUp, g.arrowDown] + g.sparkLevels + g.barLevels
        let nonASCII = all.filter { !$0.isASCII }
        #expect(nonASCII.isEmpty)
    }

    @Test func everyGlyphIsOneColumnWide() {
        for g in [GlyphSet.unicode, .ascii] {
            let all: [Character] = [g.horizontal, g.vertical, g.ellipsis, g.mark, g.cursor, g.separator,
                                    g.progressFilled, g.progressEmpty] + g.sparkLevels + g.barLevels
            let wide = all.filter { DisplayWidth.of($0) != 1 }
            #expect(wide.isEmpty)
        }
    }

    /// No role combination the widgets use may come out as text the same colour as its background.
    @Test func noRoleIsInvisibleOnAnyBackground() {
        let theme = Theme.standard
        for background in ColorRole.allCases {
            for foreground in ColorRole.allCases {
                let resolved = theme.resolve(Style(foreground: foreground, background: background), colors: true)
                if resolved.background != .terminalDefault {
                    #expect(resolved.foreground != resolved.background, "\(foreground) on \(background)")
                }
            }
        }
    }

    @Test func monochromeKeepsTheSelectionVisible() {
        let resolved = Theme.standard.resolve(Style(foreground: .error, background: .selected), colors: false)
        #expect(resolved.attributes.contains(.reverse))
        #expect(resolved.foreground == .terminalDefault && resolved.background == .terminalDefault)
    }
}

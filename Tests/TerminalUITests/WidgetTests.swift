import Testing
import TerminalUI

@Suite struct WidgetTests {
    @Test func boxWithTitleInBothGlyphSets() {
        let unicode = render(16, 3) { Box(title: "Queues").draw(into: &$0, in: $0.bounds) }
        #expect(unicode.plainText() == "┌ Queues ──────┐\n│              │\n└──────────────┘")
        let ascii = render(16, 3, ascii: true) { Box(title: "Queues").draw(into: &$0, in: $0.bounds) }
        #expect(ascii.plainText() == "+ Queues ------+\n|              |\n+--------------+")
    }

    @Test func boxReturnsItsInsideAndSurvivesTinyRects() {
        var buffer = ScreenBuffer(width: 10, height: 10)
        #expect(Box().draw(into: &buffer, in: Rect(x: 1, y: 1, width: 5, height: 4)) == Rect(x: 2, y: 2, width: 3, height: 2))
        #expect(Box().draw(into: &buffer, in: Rect(x: 0, y: 0, width: 1, height: 1)) == Rect(x: 0, y: 0, width: 1, height: 1))
        let long = render(8, 2) { Box(title: "A very long title").draw(into: &$0, in: $0.bounds) }
        #expect(long.line(0) == "┌ A v…─┐")
    }

    @Test func bannerIsFullWidthAndMarked() {
        let buffer = render(40, 1) { Banner("disconnected — retrying in 4s").draw(into: &$0, in: $0.bounds) }
        #expect(buffer.line(0) == " ! disconnected — retrying in 4s")
        #expect(buffer[39, 0].style.background == .error)
    }

    @Test func statusLineKeepsTheStatusAndDropsWholeHints() {
        let line = StatusLine(hints: [KeyHint("q", "quit"), KeyHint("/", "filter"), KeyHint("?", "help")],
                              status: "READ-ONLY  3s ago")
        #expect(render(60, 1) { line.draw(into: &$0, in: $0.bounds) }.line(0)
            == "q quit  / filter  ? help                   READ-ONLY  3s ago")
        #expect(render(32, 1) { line.draw(into: &$0, in: $0.bounds) }.line(0) == "q quit         READ-ONLY  3s ago")
        #expect(render(10, 1) { line.draw(into: &$0, in: $0.bounds) }.line(0) == "READ-ONLY…")
    }

    @Test func tabsHighlightTheCurrentScreenAndShrinkWhenNarrow() {
        let tabs = Tabs(titles: ["Overview", "DLQ", "Leads", "Workers", "Audit"], selected: 1, trailing: "queuetop")
        let wide = render(70, 1) { tabs.draw(into: &$0, in: $0.bounds) }
        #expect(wide.line(0) == " 1 Overview  2 DLQ  3 Leads  4 Workers  5 Audit               queuetop")
        #expect(wide[14, 0].style.background == .selected)
        #expect(wide[2, 0].style.background == .normal)
        let narrow = render(30, 1) { tabs.draw(into: &$0, in: $0.bounds) }
        #expect(narrow.line(0) == " 1 2 DLQ  3 4 5       queuetop")
    }

    @Test func textViewScrollsAndClamps() throws {
        let json = """
        {
          "email": "ana@example.com",
          "template": "welcome",
          "attempt": 3,
          "tags": ["onboarding", "pt-BR"],
          "body": "Olá Ana, obrigado por se cadastrar — um texto longo que não cabe na linha"
        }
        """
        let view = TextView(text: json, scrollOffset: 2)
        try assertScreen(render(40, 4) { view.draw(into: &$0, in: $0.bounds) }, named: "textview-json-scrolled")
        #expect(view.positionLabel(visibleRows: 4) == "lines 3-6 of 7")
        #expect(TextView.clampedOffset(99, lineCount: 7, visibleRows: 4) == 3)
        #expect(TextView.clampedOffset(-3, lineCount: 7, visibleRows: 4) == 0)
        #expect(TextView.clampedOffset(5, lineCount: 2, visibleRows: 4) == 0)
    }

    @Test func themeResolvesRolesForColourAndMonochrome() {
        let theme = Theme.standard
        let selected = theme.resolve(.selected, colors: true)
        #expect(selected.foreground == .black && selected.background == .cyan)
        #expect(theme.resolve(.selected, colors: false).attributes.contains(.reverse))
        let banner = theme.resolve(Style(foreground: .error, background: .error), colors: true)
        #expect(banner.foreground == .white && banner.background == .red)
        let mono = theme.resolve(.error, colors: false)
        #expect(mono.foreground == .terminalDefault && mono.attributes.contains(.bold))
        #expect(theme.resolve(.muted, colors: false).attributes == .dim)
        #expect(theme.resolve(.normal, colors: true) == ResolvedStyle(foreground: .terminalDefault, background: .terminalDefault, attributes: []))
    }

    @Test func terminalProfileDecisions() {
        #expect(!TerminalProfile.prefersASCII(codeset: "UTF-8", term: "xterm-256color"))
        #expect(!TerminalProfile.prefersASCII(codeset: "utf8", term: "screen"))
        #expect(TerminalProfile.prefersASCII(codeset: "ANSI_X3.4-1968", term: "xterm"))
        #expect(TerminalProfile.prefersASCII(codeset: "UTF-8", term: "dumb"))
        #expect(TerminalProfile.prefersASCII(codeset: "UTF-8", term: nil))
        #expect(TerminalProfile.usesColor(noColor: nil, hasColors: true, colorCount: 8))
        #expect(TerminalProfile.usesColor(noColor: "", hasColors: true, colorCount: 256))
        #expect(!TerminalProfile.usesColor(noColor: "1", hasColors: true, colorCount: 256))
        #expect(!TerminalProfile.usesColor(noColor: nil, hasColors: false, colorCount: 0))
    }
}

@Suite struct PromptLineTests {
    @Test func showsTheTextAndAReversedCursor() {
        let buffer = render(20, 1) { PromptLine(prompt: ":", text: "pause emails").draw(into: &$0, in: $0.bounds) }
        #expect(buffer.line(0) == ":pause emails")
        #expect(buffer[13, 0].style.attributes.contains(.reverse))
    }

    @Test func longTextScrollsToKeepTheEndVisible() {
        let buffer = render(10, 1) { PromptLine(prompt: "/", text: "SMTPTimeoutError").draw(into: &$0, in: $0.bounds) }
        #expect(buffer.line(0) == "/outError")
        #expect(buffer[9, 0].style.attributes.contains(.reverse))
    }

    @Test func placeholderWhenEmpty() {
        let buffer = render(30, 1) { PromptLine(prompt: "/", text: "", placeholder: "filter by name").draw(into: &$0, in: $0.bounds) }
        #expect(buffer.line(0) == "/ filter by name")
        #expect(buffer[2, 0].style.foreground == .muted)
        _ = render(1, 1) { PromptLine(prompt: "/", text: "abc").draw(into: &$0, in: $0.bounds) }
    }
}

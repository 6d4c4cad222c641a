import Testing
import TerminalUI

@Suite struct LayoutTests {
    @Test func fixedPartsFirstThenFlexibleShares() {
        let rows = Layout.vertical(Rect(x: 0, y: 0, width: 80, height: 24), [.fixed(1), .flexible, .fixed(8), .fixed(1)])
        #expect(rows.map(\.height) == [1, 14, 8, 1])
        #expect(rows.map(\.y) == [0, 1, 15, 23])
    }

    @Test func weightsAndLeftoverAreDeterministic() {
        #expect(Layout.distribute(10, [.flexible(weight: 1), .flexible(weight: 2)]) == [4, 6])
        #expect(Layout.distribute(10, [.flexible, .flexible, .flexible]) == [4, 3, 3])
        #expect(Layout.distribute(10, [.atLeast(3), .fixed(4)]) == [6, 4])
    }

    @Test func fixedPartsShrinkWhenSpaceRunsOut() {
        #expect(Layout.distribute(5, [.fixed(1), .fixed(8), .flexible, .fixed(1)]) == [1, 4, 0, 0])
        #expect(Layout.distribute(0, [.fixed(1), .flexible]) == [0, 0])
        let columns = Layout.horizontal(Rect(x: 2, y: 0, width: 3, height: 1), [.fixed(10), .flexible])
        #expect(columns == [Rect(x: 2, y: 0, width: 3, height: 1), Rect(x: 5, y: 0, width: 0, height: 1)])
    }

    @Test func sizeClasses() {
        #expect(Layout.sizeClass(width: 0, height: 0) == .tooSmall)
        #expect(Layout.sizeClass(width: 19, height: 24) == .tooSmall)
        #expect(Layout.sizeClass(width: 20, height: 5) == .compact)
        #expect(Layout.sizeClass(width: 79, height: 40) == .compact)
        #expect(Layout.sizeClass(width: 80, height: 24) == .regular)
        #expect(Layout.sizeClass(width: 120, height: 40) == .regular)
    }

    @Test func rectHelpers() {
        let r = Rect(x: 1, y: 1, width: 10, height: 4)
        #expect(r.inset(dx: 1, dy: 1) == Rect(x: 2, y: 2, width: 8, height: 2))
        #expect(r.inset(dx: 6, dy: 0).isEmpty)
        #expect(r.centered(width: 4, height: 2) == Rect(x: 4, y: 2, width: 4, height: 2))
        #expect(r.centered(width: 40, height: 20) == r)
        #expect(r.intersection(Rect(x: 20, y: 20, width: 1, height: 1)).isEmpty)
    }

    @Test func wrapping() {
        #expect(TextWrap.wrap("requeue all 412 jobs of this error type", width: 16)
            == ["requeue all 412", "jobs of this", "error type"])
        #expect(TextWrap.wrap("abcdefghij", width: 4) == ["abcd", "efgh", "ij"])
        #expect(TextWrap.wrap("日本語日本語", width: 5) == ["日本", "語日", "本語"])
        #expect(TextWrap.wrap("a\n\nb", width: 5) == ["a", "", "b"])
        #expect(TextWrap.expandTabs("a\tb", tabWidth: 4) == "a   b")
    }
}

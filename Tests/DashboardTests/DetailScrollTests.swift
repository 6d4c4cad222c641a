import Dashboard
import Foundation
@testable import QueueStore
import Testing

/// Scrolling one dead-letter job's payload stays within what the view can show, so no key press
/// is ever swallowed by an offset past the end.
@Suite struct DetailScrollTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    let key = DLQGroupKey(queue: "emails", fingerprint: "5d41402abc4b", errorType: "smtp_error")

    /// Job detail open, the view having measured a pane of `rows` rows over `lines` lines.
    func detail(lines: Int, rows: Int) -> DashboardState {
        var s = DashboardState(now: t0)
        s.screen = .dlq
        s.dlqLevel = .job(key, UUID())
        _ = reduce(&s, .detailViewportMeasured(DetailViewport(maxOffset: lines - rows, visibleRows: rows)))
        return s
    }

    func press(_ s: inout DashboardState, _ keys: Key...) {
        for k in keys { _ = reduce(&s, .key(k)) }
    }

    @Test func gThenKMovesUpOneLineFromTheBottom() {
        var s = detail(lines: 30, rows: 12)
        press(&s, .character("G"))
        #expect(s.detailScroll == 18)
        press(&s, .character("k"))
        #expect(s.detailScroll == 17)
        press(&s, .end, .up)
        #expect(s.detailScroll == 17)
    }

    @Test func gBeforeTheFirstMeasurementIsPulledBackByIt() {
        var s = DashboardState(now: t0)
        s.screen = .dlq
        s.dlqLevel = .job(key, UUID())
        press(&s, .character("G"))
        _ = reduce(&s, .detailViewportMeasured(DetailViewport(maxOffset: 18, visibleRows: 12)))
        press(&s, .character("k"))
        #expect(s.detailScroll == 17)
    }

    @Test func smallGGoesToTheTopAndJStopsAtTheBottom() {
        var s = detail(lines: 30, rows: 12)
        press(&s, .character("G"), .character("g"))
        #expect(s.detailScroll == 0)
        press(&s, .character("k"))
        #expect(s.detailScroll == 0)
        for _ in 0..<40 { press(&s, .character("j")) }
        #expect(s.detailScroll == 18)
    }

    @Test func pageKeysMoveByTheMeasuredScreenful() {
        var s = detail(lines: 100, rows: 12)
        press(&s, .pageDown)
        #expect(s.detailScroll == 12)
        press(&s, .pageDown, .pageDown)
        #expect(s.detailScroll == 36)
        press(&s, .pageUp)
        #expect(s.detailScroll == 24)
        for _ in 0..<20 { press(&s, .pageDown) }
        #expect(s.detailScroll == 88)
        for _ in 0..<20 { press(&s, .pageUp) }
        #expect(s.detailScroll == 0)
    }

    @Test func aResizeThatShrinksTheRangeKeepsTheOffsetInIt() {
        var s = detail(lines: 30, rows: 5)
        press(&s, .character("G"))
        #expect(s.detailScroll == 25)
        // A taller terminal shows more lines at once: less left to scroll.
        _ = reduce(&s, .detailViewportMeasured(DetailViewport(maxOffset: 10, visibleRows: 20)))
        #expect(s.detailScroll == 10)
        press(&s, .character("k"))
        #expect(s.detailScroll == 9)
    }

    @Test func leavingTheJobForgetsItsScrollAndMeasurement() {
        var s = detail(lines: 30, rows: 12)
        press(&s, .character("G"), .escape)
        #expect(s.detailScroll == 0 && s.detailViewport == nil)
        #expect(s.dlqLevel == .jobs(key))
    }

    @Test func listsStillPageByTenRows() {
        var s = DashboardState(now: t0)
        s.screen = .dlq
        s.dlqLevel = .jobs(key)
        s.dlqJobs = (0..<30).map { i in
            DLQJob(id: UUID(), queue: "emails", jobType: "send", errorType: "smtp_error", errorMessage: "421 #\(i)",
                   attemptCount: 5, maxAttempts: 5, lastErrorAt: t0, createdAt: t0)
        }
        _ = reduce(&s, .detailViewportMeasured(nil))
        press(&s, .pageDown)
        #expect(s.cursorRow == 10)
    }
}

import Foundation
import Testing
@testable import QueueStore
import TerminalUI

/// Data the fixture's happy day does not have: many queues, long names, a failed migration,
/// nothing loaded yet, nothing at all.
@Suite struct DashboardEdgeCaseTests {
    typealias F = DashboardFixture

    static func draw(_ state: DashboardState, _ width: Int = 80, _ height: Int = 24) -> ScreenBuffer {
        DashboardScreenTests.draw(state, width, height)
    }

    @Test func theCursorRowStaysOnScreenInALongList() throws {
        var state = F.state()
        let template = state.snapshot!.queues[1]
        state.snapshot!.queues = (1...50).map { n in
            var q = template
            q.name = String(format: "tenant-%02d-notifications-with-a-long-name", n)
            return q
        }
        state.cursor[.overview] = 40
        let screen = Self.draw(state)
        try assertScreen(screen, named: "overview-scrolled-50-queues-80x24")
        let selected = (0..<screen.height).map(screen.line).first { $0.contains("▸") }
        #expect(selected?.contains("tenant-41") == true, "the cursor row is drawn, not scrolled away")
        #expect(screen.plainText().contains("Queues (50)"))
    }

    @Test func aFailedMigrationShowsItsError() throws {
        var state = F.state(.leads)
        var failed = state.snapshot!.leadMigrations[0]
        failed.status = .failed
        failed.finishedAt = F.ago(60)
        failed.error = "column 5f1c… no longer exists in funnel (deleted by someone)\nbatch 413 rolled back"
        state.snapshot!.leadMigrations = [failed]
        let screen = Self.draw(state)
        try assertScreen(screen, named: "leads-failed-80x24")
        #expect(screen.plainText().contains("failed"))
        #expect(screen.plainText().contains("error      column 5f1c… no longer exists in funnel (deleted by someone)"))
        #expect(screen.plainText().contains("batch 413 rolled back"), "the whole error is shown, wrapped")
        #expect(screen.plainText().contains("ETA -"), "a failed run has no ETA")
    }

    @Test func loadingAndEmptyListsAreSaidNotLeftBlank() {
        var detail = F.jobDetailState()
        detail.jobDetail = nil
        #expect(Self.draw(detail).plainText().contains("loading the job"))

        var jobs = F.dlqJobsState()
        jobs.dlqJobs = []
        #expect(Self.draw(jobs).plainText().contains("loading 389 jobs"))
        jobs.dlqGroups = []
        #expect(Self.draw(jobs).plainText().contains("No jobs left in this group"))

        var none = F.state()
        none.snapshot!.queues = []
        none.snapshot!.alerts = []
        let overview = Self.draw(none).plainText()
        #expect(overview.contains("No queues yet"))
        #expect(overview.contains("no alerts"))

        var noWorkers = F.state(.workers)
        noWorkers.snapshot!.workers = []
        noWorkers.snapshot!.circuitBreakers = []
        #expect(Self.draw(noWorkers).plainText().contains("No workers registered"))

        var noLeads = F.state(.leads)
        noLeads.snapshot!.leadMigrations = []
        #expect(Self.draw(noLeads).plainText().contains("No lead migration is running"))
    }

    @Test func aQueueThatVanishedFromTheSnapshotIsExplained() {
        var state = F.state(.queue)
        state.selectedQueue = "deleted-queue"
        #expect(Self.draw(state).plainText().contains("Queue 'deleted-queue' is not in the latest snapshot."))
    }

    @Test func controlCharactersInDataCannotBreakARow() {
        var state = F.state(.dlq)
        state.dlqGroups = [DLQGroup(queue: "emails", errorType: "x\u{1B}[2J", count: 1, firstErrorAt: F.ago(5),
                                    lastErrorAt: F.ago(5), sampleMessage: "line one\nline two\tend")]
        let screen = Self.draw(state)
        #expect(!screen.plainText().contains("\u{1B}"), "an escape byte would reach the terminal")
        #expect(screen.plainText().contains("line one line two end"))
    }
}

import Foundation
import QueueStore
import TerminalUI
import Testing

/// The job opened by id (`:job ID`): what the operator reads on it, and that it is the same
/// body as the DLQ's job detail. The full-screen goldens are in DashboardScreenTests
/// (job-completed, job-expired, dlq-job).
@Suite struct JobScreenTests {
    typealias F = DashboardFixture

    static func draw(_ state: DashboardState, _ width: Int = 80, _ height: Int = 24, ascii: Bool = false) -> ScreenBuffer {
        DashboardScreenTests.draw(state, width, height, ascii: ascii)
    }

    @Test func aCompletedJobShowsItsResultTimingsAndTenant() {
        let text = Self.draw(F.openedJobState(F.completedJob), 120, 40).plainText()
        #expect(text.contains("Job › 0193004d-7c1e-7a2b-9f00-000000094de3"))
        #expect(text.contains("status    completed"))
        #expect(text.contains("tenant    shop-acme") && text.contains("dedup key store:7:2026-11-22T03"))
        #expect(text.contains("took     2.1s") && text.contains("expires  03:54:48 (in 24m48s)"))
        #expect(text.contains("┌ Result ─"))
        #expect(text.contains(#""synced": 1284"#))
        // An earlier failure of a job that then completed is history, and says so.
        #expect(text.contains("last error: http_503: upstream returned 503"))
        #expect(!text.contains("r requeue"), "no actions on an opened job")
    }

    @Test func onANarrowTerminalTheResultFollowsThePayloadOneScrollAway() {
        var state = F.openedJobState(F.completedJob)
        let top = Self.draw(state).plainText()
        #expect(top.contains("Payload, result and failed attempts · lines 1-10 of 18"))
        state.detailScroll = Int.max / 2
        let bottom = Self.draw(state).plainText()
        #expect(bottom.contains("lines 9-18 of 18"))
        #expect(bottom.contains("#1 03:25:00 app-1:4242 http_503: upstream returned 503"))
    }

    @Test func anExpiredJobSaysItWasCancelledForItsExpiry() {
        let text = Self.draw(F.openedJobState(F.expiredJob)).plainText()
        #expect(text.contains("status   cancelled (expired)"))
        #expect(text.contains("expired   03:05:00 (25m ago)"))
        #expect(!text.contains("started"), "it never ran")
    }

    @Test func whileLoadingItSaysSoAndReportsNoViewport() throws {
        let state = F.openedJobState(nil, id: F.id(77))
        var buffer = ScreenBuffer(width: 80, height: 24)
        #expect(DashboardView.draw(state, into: &buffer) == nil)
        try assertScreen(buffer, named: "job-loading-80x24")
        #expect(buffer.plainText().contains("loading the job…"))
        // An answer for another job (a late one) is not shown under this id.
        var other = state
        other.openedJob?.detail = F.expiredJob
        #expect(Self.draw(other).plainText().contains("loading the job…"))
    }

    @Test func theCrumbSaysWhereEscGoesBack() {
        var overDLQ = F.dlqJobsState()
        overDLQ.openedJob = OpenedJob(id: F.completedJob.job.id, detail: F.completedJob)
        let text = Self.draw(overDLQ, 120, 40)
        #expect(text.line(1).contains("Esc back to DLQ jobs"))
        #expect(text.line(0).contains("3 DLQ"), "the tab underneath stays lit")
        // Too narrow for the whole id and the hint: the short id, no hint.
        let narrow = Self.draw(overDLQ, 40, 20).line(1)
        let short = ShortJobID.of(F.completedJob.job.id)
        #expect(narrow.contains("Job › \(short) ") && narrow.contains("Esc back to DLQ jobs"))
        let narrower = Self.draw(overDLQ, 30, 20).line(1)
        #expect(narrower.contains("Job › \(short)") && !narrower.contains("Esc"))
    }

    @Test func helpOnAnOpenedJobListsScrollingAndBackButNoActions() throws {
        var state = F.openedJobState(F.completedJob)
        state.showHelp = true
        let screen = Self.draw(state)
        try assertScreen(screen, named: "help-job-80x24")
        let text = screen.plainText()
        #expect(text.contains("Help · Job detail"))
        #expect(text.contains("scroll the payload, result and attempts"))
        #expect(!text.contains("Actions") && !text.contains("filter "))
        #expect(text.contains("Esc q h        back"))
    }

    @Test func theOpenedJobScrollsExactlyLikeTheDLQJob() throws {
        var state = F.openedJobState(F.completedJob)
        var buffer = ScreenBuffer(width: 80, height: 24)
        let viewport = try #require(DashboardView.draw(state, into: &buffer))
        #expect(viewport == DetailViewport(maxOffset: 8, visibleRows: 10))
        _ = reduce(&state, .detailViewportMeasured(viewport))
        _ = reduce(&state, .key(.character("G")))
        #expect(state.detailScroll == 8)
        _ = reduce(&state, .key(.character("k")))
        #expect(Self.draw(state).plainText().contains("lines 8-17 of 18"))
    }

    @Test func theCommandLineOffersJob() {
        var state = F.state(.overview)
        state.commandLine = ""
        #expect(Self.draw(state).line(23).contains(": job ID, dlq"))
    }
}

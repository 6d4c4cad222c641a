import Foundation
import Testing
import TerminalUI
import QueueStore

/// The states an operator meets around the screens: dialogs, help, prompts, a lost database,
/// the first seconds before any data, read-only mode, tiny terminals.
@Suite struct DashboardOverlayTests {
    typealias F = DashboardFixture

    static func draw(_ state: DashboardState, _ width: Int = 80, _ height: Int = 24, ascii: Bool = false) -> ScreenBuffer {
        DashboardScreenTests.draw(state, width, height, ascii: ascii)
    }

    static var groupRequeue: OperatorAction { .requeueGroup(F.smtpKey, resetAttempts: false, asOf: nil) }

    @Test func confirmationWhileCountingRefusesToOfferYes() throws {
        var state = F.state(.dlq)
        state.confirmation = Confirmation(action: Self.groupRequeue, count: nil)
        let screen = Self.draw(state)
        try assertScreen(screen, named: "confirm-counting-80x24")
        let text = screen.plainText()
        #expect(text.contains(state.confirmation!.prompt))
        #expect(text.contains("emails / smtp_error"))
        #expect(text.contains("y is not accepted"))
        #expect(!text.contains("[y]"))
    }

    @Test func confirmationWithTheCountShowsThePromptVerbatim() throws {
        var state = F.state(.dlq)
        state.confirmation = Confirmation(action: Self.groupRequeue, count: 389, sample: F.jobs.prefix(5).map(JobSummary.init(deadLetter:)))
        let screen = Self.draw(state)
        try assertScreen(screen, named: "confirm-counted-80x24")
        #expect(screen.plainText().contains("Requeue 389 jobs from emails / smtp_error 5d41402abc4b?"))
        // The preview: 5 of the very jobs, by short id.
        #expect(screen.plainText().contains("Sample (of 389):"))
        for job in F.jobs.prefix(5) { #expect(screen.plainText().contains(ShortJobID.of(job.id))) }
        #expect(screen.plainText().contains("[y] confirm  [n] cancel"))

        var delete = F.dlqJobsState()
        delete.confirmation = Confirmation(action: .deleteJobs([F.id(1), F.id(3)]), count: 2)
        try assertScreen(Self.draw(delete, 120, 40), named: "confirm-delete-120x40")
        try assertScreen(Self.draw(delete, 80, 24, ascii: true), named: "confirm-delete-ascii-80x24")
        // Even at the smallest size the question and how to answer stay on screen.
        let tiny = Self.draw(state, 20, 5).plainText()
        #expect(tiny.contains("[y] yes  [n] no"))
    }

    @Test func helpListsTheKeysOfTheCurrentScreen() throws {
        var overview = F.state(.overview)
        overview.showHelp = true
        let screen = Self.draw(overview, 120, 40)
        try assertScreen(screen, named: "help-overview-120x40")
        #expect(screen.plainText().contains("pause / resume the queue"))

        var jobs = F.dlqJobsState()
        jobs.showHelp = true
        let dlq = Self.draw(jobs)
        try assertScreen(dlq, named: "help-dlq-jobs-80x24")
        #expect(dlq.plainText().contains("mark / unmark the job"))
        #expect(!dlq.plainText().contains("pause / resume the queue"))

        var readOnly = F.state(.dlq)
        readOnly.readOnly = true
        readOnly.showHelp = true
        let ro = Self.draw(readOnly).plainText()
        #expect(ro.contains("read-only: actions are disabled"))
        #expect(!ro.contains("requeue every job"))
    }

    @Test func disconnectedBannerCountsDownAndMarksTheDataStale() throws {
        var state = F.state(.overview)
        state.connection = .disconnected(reason: "connection refused", retryAt: F.now.addingTimeInterval(4.2))
        let screen = Self.draw(state)
        try assertScreen(screen, named: "disconnected-80x24")
        #expect(screen.line(1).contains("disconnected — retrying in 5s"))
        #expect(screen.plainText().contains("stale"))
        #expect(screen.plainText().contains("1.2k"), "the last data stays on screen")
        state.now = F.now.addingTimeInterval(5)
        #expect(Self.draw(state).line(1).contains("retrying now"))
        #expect(Self.draw(state, ascii: true).line(1).contains("disconnected - retrying now"))
    }

    @Test func beforeTheFirstSnapshotItSaysConnecting() throws {
        let state = DashboardState(now: F.now)
        let screen = Self.draw(state)
        try assertScreen(screen, named: "connecting-80x24")
        #expect(screen.line(1).contains("connecting"))
        var unreachable = state
        unreachable.connection = .disconnected(reason: "could not translate host name \"db\"", retryAt: F.now.addingTimeInterval(2))
        #expect(Self.draw(unreachable).plainText().contains("No data yet: the database is unreachable"))
    }

    @Test func filterPromptAndCommandLine() throws {
        var state = F.state(.overview)
        state.filter[.overview] = "em"
        state.filterEditing = true
        let screen = Self.draw(state)
        try assertScreen(screen, named: "filter-editing-80x24")
        #expect(screen.line(23).hasPrefix("/em"))
        #expect(screen.plainText().contains("Queues (1 of 5)"))

        state.filterEditing = false
        #expect(Self.draw(state).plainText().contains("Esc clear filter"))

        var command = F.state(.overview)
        command.commandLine = "pause ema"
        let cmd = Self.draw(command, 70, 20)
        try assertScreen(cmd, named: "command-line-compact-70x20")
        #expect(cmd.line(19).hasPrefix(":pause ema"))
    }

    @Test func emptyStatesSayWhatIsGoingOn() {
        var state = F.state(.dlq)
        state.dlqGroups = []
        // The snapshot still counts dead-letter jobs: the list is loading, not empty.
        #expect(Self.draw(state).plainText().contains("loading 448 dead-letter jobs"))
        var snapshot = state.snapshot!
        for i in snapshot.queues.indices { snapshot.queues[i].counts.deadLetter = 0 }
        state.snapshot = snapshot
        #expect(Self.draw(state).plainText().contains("DLQ is empty"))

        var audit = F.state(.audit)
        audit.audit = []
        #expect(Self.draw(audit).plainText().contains("No operator action recorded yet."))
    }

    @Test func footerShowsReadOnlyPausedRefreshAndFlash() throws {
        var state = F.state(.overview)
        state.readOnly = true
        state.refreshPaused = true
        state.flash = Flash("requeued 412 jobs", kind: .success, at: F.now)
        let screen = Self.draw(state)
        try assertScreen(screen, named: "footer-read-only-flash-80x24")
        #expect(screen.line(22).contains("READ-ONLY"))
        #expect(screen.line(22).contains("refresh paused"))
        #expect(screen.line(23).contains("requeued 412 jobs"))
        #expect(!screen.line(23).contains("p pause"), "read-only hides action hints")

        var compact = state
        compact.flash = Flash("unknown queue 'x'", kind: .error, at: F.now)
        let small = Self.draw(compact, 70, 20)
        #expect(small.line(19).contains("! unknown queue 'x'"))
        #expect(small.line(19).contains("READ-ONLY"))
    }

    /// A standby: the tabs say STANDBY, the status row how replay stands, first (a short row
    /// cuts the end), and not "no LISTEN", which "standby" already explains.
    @Test func aStandbySaysSoAndHowReplayStands() throws {
        var state = F.state(.overview)
        state.readOnly = true
        state.notificationsLost = true
        state.standby = StandbyStatus(replay: .paused, lastReplayedAt: F.now.addingTimeInterval(-312), dataAgeSeconds: 312,
                                      waitingBytes: 4096, primary: "10.0.0.5:5432")
        let screen = Self.draw(state)
        try assertScreen(screen, named: "footer-standby-paused-80x24")
        #expect(screen.line(0).contains("STANDBY READ-ONLY"))
        #expect(screen.line(22).contains("READ-ONLY · standby: replay paused, data from 5m ago"))
        #expect(!screen.plainText().contains("no LISTEN"))

        state.standby?.replay = .caughtUp
        #expect(Self.draw(state).line(22).contains("standby: caught up"))
        state.standby?.replay = .behind
        state.standby?.dataAgeSeconds = 12.7
        #expect(Self.draw(state).line(22).contains("standby: replay 12s behind"))
        state.standby?.replay = .notStreaming
        #expect(Self.draw(state, 120, 40).line(38).contains("standby: not streaming from the primary, data from 12s ago"))
    }

    @Test func jobDetailScrollsThePayload() throws {
        let top = Self.draw(F.jobDetailState(scroll: 0))
        let scrolled = Self.draw(F.jobDetailState(scroll: 6))
        try assertScreen(scrolled, named: "dlq-job-scrolled-80x24")
        #expect(top.plainText().contains("lines 1-"))
        #expect(scrolled.plainText().contains("lines 7-"))
        // Past the end (G sends a huge offset) it stops at the last page.
        let bottom = Self.draw(F.jobDetailState(scroll: Int.max / 2)).plainText()
        #expect(bottom.contains("of 30"))
        #expect(bottom.contains("\"retry_after_s\": 300"))
    }

    @Test func tooSmallAndTinyTerminalsNeverCrash() throws {
        try assertScreen(Self.draw(F.state(.overview), 20, 5), named: "overview-20x5")
        try assertScreen(Self.draw(F.state(.overview), 19, 4), named: "too-small-19x4")
        var everything = F.jobDetailState()
        everything.showHelp = true
        everything.commandLine = "x"
        everything.connection = .disconnected(reason: "gone", retryAt: F.now)
        let states = DashboardScreenTests.screens.map(\.1) + [everything]
        for state in states {
            for width in 0...24 {
                for height in 0...8 {
                    let buffer = Self.draw(state, width, height)
                    #expect(buffer.width == width && buffer.height == height)
                }
            }
        }
        #expect(Self.draw(F.state(), 1, 1).plainText() == "…")
    }
}

/// The view measures the payload pane; fed back to the reducer, that keeps `k` after `G` exact.
@Suite struct DetailViewportTests {
    typealias F = DashboardFixture

    @Test func theMeasuredBottomIsTheLastPageAndKScrollsUpFromIt() throws {
        var state = F.jobDetailState()
        var buffer = ScreenBuffer(width: 80, height: 24)
        let viewport = try #require(DashboardView.draw(state, into: &buffer))
        _ = reduce(&state, .detailViewportMeasured(viewport))
        _ = reduce(&state, .key(.character("G")))
        let bottom = DashboardOverlayTests.draw(state).plainText()
        #expect(bottom.contains("of 30"))
        #expect(bottom.contains("lines \(viewport.maxOffset + 1)-30 of 30"))
        _ = reduce(&state, .key(.character("k")))
        let up = DashboardOverlayTests.draw(state).plainText()
        #expect(up.contains("lines \(viewport.maxOffset)-29 of 30"))
    }

    @Test func onlyJobDetailReportsAViewport() {
        var buffer = ScreenBuffer(width: 80, height: 24)
        #expect(DashboardView.draw(F.state(.dlq), into: &buffer) == nil)
        #expect(DashboardView.draw(F.dlqJobsState(), into: &buffer) == nil)
        // A bigger terminal shows more of the payload, so less is left to scroll.
        var big = ScreenBuffer(width: 120, height: 40)
        let small = DashboardView.draw(F.jobDetailState(), into: &buffer)
        let large = DashboardView.draw(F.jobDetailState(), into: &big)
        #expect(small != nil && large != nil)
        #expect(large!.visibleRows > small!.visibleRows)
        #expect(large!.maxOffset < small!.maxOffset)
    }
}

import Foundation
import Testing
import TerminalUI
import JobFilter
import QueueStore

/// Every screen drawn by `DashboardView` from the fixed fixture state, compared with text goldens.
/// Record with QUEUETOP_RECORD_SNAPSHOTS=1, then read every golden before committing it.
@Suite struct DashboardScreenTests {
    static func draw(_ state: DashboardState, _ width: Int, _ height: Int, ascii: Bool = false) -> ScreenBuffer {
        var buffer = ScreenBuffer(width: width, height: height, glyphs: .select(ascii: ascii))
        DashboardView.draw(state, into: &buffer)
        return buffer
    }

    static let sizes = [(80, 24), (120, 40)]

    /// The state of each screen as the operator reaches it, by golden name.
    static let screens: [(String, DashboardState)] = [
        ("overview", DashboardFixture.state(.overview)),
        ("queue", DashboardFixture.state(.queue)),
        ("dlq-groups", DashboardFixture.state(.dlq)),
        ("dlq-jobs", DashboardFixture.dlqJobsState()),
        ("dlq-job", DashboardFixture.jobDetailState()),
        ("job-completed", DashboardFixture.openedJobState(DashboardFixture.completedJob)),
        ("job-expired", DashboardFixture.openedJobState(DashboardFixture.expiredJob)),
        ("leads", DashboardFixture.state(.leads)),
        ("workers", DashboardFixture.workersState(browsing: false)),
        ("workers-busy", DashboardFixture.workersState(browsing: true)),
        ("audit", DashboardFixture.state(.audit)),
        ("schedules", DashboardFixture.state(.schedules)),
        ("timeline", DashboardFixture.state(.timeline)),
        ("log", DashboardFixture.logState()),
        ("jobs-pending", DashboardFixture.jobsState(.pending)),
        ("jobs-running", DashboardFixture.jobsState(.running, filter: "")),
        ("jobs-dead", DashboardFixture.jobsState(.dead, filter: "queue:emails payload.to=ana@example.com",
                                                 window: WindowScan(rowsRead: 200_000, limit: 200_000, truncated: true))),
        ("jobs-all", DashboardFixture.jobsState(nil, filter: "-state:completed tenant:\"shop 9\"")),
        ("jobs-bad-filter", {
            var s = DashboardFixture.jobsState(.pending)
            s.jobs.editing = "queue:emails qeue:x"
            s.jobs.filterError = JobFilterError("unknown field 'qeue'", hint: "did you mean queue?", column: 14)
            return s
        }()),
        ("jobs-confirm", {
            var s = DashboardFixture.jobsState(.pending)
            s.marked = []
            var c = Confirmation(action: .jobsByFilter(.cancel, s.jobs.effectiveFilter, asOf: DashboardFixture.now), count: 1234)
            c.sample = Array(s.jobs.rows.prefix(5))
            s.confirmation = c
            return s
        }()),
        ("jobs-confirm-priority", {
            var s = DashboardFixture.jobsState(.pending)
            s.marked = []
            let c = Confirmation(action: .jobsByFilter(.priority, s.jobs.effectiveFilter, asOf: DashboardFixture.now, priority: 50),
                                 count: 1234, sample: Array(s.jobs.rows.prefix(5)))
            s.confirmation = c
            return s
        }()),
        ("jobs-priority-prompt", {
            var s = DashboardFixture.jobsState(.pending)
            s.jobs.priorityPrompt = "9999999"
            s.jobs.priorityError = "priority must be between -1000000 and 1000000, got 9999999"
            return s
        }()),
        // A bulk cancel running beside the screen: the footer's progress line instead of the hints.
        ("jobs-bulk-progress", {
            var s = DashboardFixture.jobsState(.pending)
            s.bulk = BulkRun(progress: JobBulkProgress(action: .cancel, done: 41_000, total: 100_000, elapsed: 5),
                             startedAt: DashboardFixture.now.addingTimeInterval(-5))
            return s
        }()),
        ("log-startup-error", {
            var s = DashboardFixture.logState()
            s.poolStartupError = "bad worker config: handler 'mail' names secret variable MAIL_TOKEN, which is not set"
            return s
        }()),
    ]

    @Test(arguments: screens.indices)
    func everyScreenAtBothSizes(index: Int) throws {
        let (name, state) = Self.screens[index]
        for (w, h) in Self.sizes {
            try assertScreen(Self.draw(state, w, h), named: "\(name)-\(w)x\(h)")
        }
    }

    @Test(arguments: screens.indices)
    func everyScreenCompactAndASCII(index: Int) throws {
        let (name, state) = Self.screens[index]
        try assertScreen(Self.draw(state, 70, 20), named: "\(name)-compact-70x20")
        let ascii = Self.draw(state, 80, 24, ascii: true)
        try assertScreen(ascii, named: "\(name)-ascii-80x24")
        // LANG=C terminals show any other byte as garbage, and it can shift the rest of the row.
        let text = ascii.plainText()
        #expect(text.utf8.allSatisfy { $0 < 0x80 }, "non-ASCII output in \(name): \(text.unicodeScalars.filter { !$0.isASCII })")
    }

    /// No hidden clock or randomness: the same state draws the same cells, styles included.
    @Test(arguments: screens.indices)
    func drawingIsAPureFunctionOfState(index: Int) {
        let state = Self.screens[index].1
        for (w, h) in Self.sizes + [(70, 20), (20, 5)] {
            #expect(Self.draw(state, w, h) == Self.draw(state, w, h))
        }
    }
}

/// The Schedules screen says what each schedule does next and how its last run went, and
/// explains how to add one when there is none.
@Suite struct SchedulesScreenTests {
    typealias F = DashboardFixture

    @Test func rowsShowNextLastOutcomeAndMissedTicks() {
        let text = DashboardScreenTests.draw(F.state(.schedules), 120, 40).plainText()
        let crm = text.split(separator: "\n").first { $0.contains("crm-sync") && $0.contains("*/5") }.map(String.init) ?? ""
        #expect(crm.contains("due"))            // next run is 40 s in the past: waiting for a ticker
        #expect(crm.contains("15m ago"))
        #expect(crm.contains("error: queue store-sync"))
        let digest = text.split(separator: "\n").first { $0.contains("digest-hourly") }.map(String.init) ?? ""
        #expect(digest.contains("in 30m") && digest.contains("deduplicated") && digest.contains("emails / send_digest"))
        let legacy = text.split(separator: "\n").first { $0.contains("legacy-cleanup") }.map(String.init) ?? ""
        #expect(legacy.contains("off") && legacy.contains("never"))
        // The selected row (digest-hourly) in full below the list.
        #expect(text.contains("Schedule digest-hourly"))
        #expect(text.contains(#"{"template": "digest", "locale": "pt-BR"}"#))
    }

    @Test func emptyExplainsHowToAddOneAndLoadingSaysSo() throws {
        var state = F.state(.schedules)
        state.schedules = []
        let empty = DashboardScreenTests.draw(state, 80, 24)
        try assertScreen(empty, named: "schedules-empty-80x24")
        #expect(empty.plainText().contains("queuetop schedule add"))
        state.schedules = nil
        let loading = DashboardScreenTests.draw(state, 80, 24).plainText()
        #expect(loading.contains("loading the schedules"))
        #expect(!loading.contains("No schedules yet"))
    }

    @Test func readOnlyHidesTheActionsFromHintsAndHelp() throws {
        var state = F.state(.schedules)
        state.readOnly = true
        #expect(!DashboardScreenTests.draw(state, 120, 40).plainText().contains("run now"))
        state.showHelp = true
        let help = DashboardScreenTests.draw(state, 120, 40).plainText()
        #expect(help.contains("read-only: actions are disabled"))
        state.readOnly = false
        let writable = DashboardScreenTests.draw(state, 80, 24)
        try assertScreen(writable, named: "help-schedules-80x24")
        #expect(writable.plainText().contains("enable / disable the schedule"))
        #expect(writable.plainText().contains("run it now"))
    }
}

import Dashboard
import Foundation
import Testing

/// Key sequences lead to the right state and effects, with no database and no terminal.
@Suite struct ReducerKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    func press(_ state: inout DashboardState, _ keys: Key...) -> [Effect] {
        keys.flatMap { reduce(&state, .key($0)) }
    }

    func type(_ state: inout DashboardState, _ text: String) -> [Effect] {
        text.flatMap { reduce(&state, .key(.character($0))) }
    }

    @Test func escapeAndLeftOnHomeNeverQuit() {
        // An operator mashes Esc to close whatever is open; that must not end the session.
        var home = DashboardState(now: t0)
        #expect(press(&home, .escape, .escape, .left, .character("h")) == [])
        #expect(!home.quitting && home.screen == .overview)
        var deep = DashboardState(now: t0)
        _ = press(&deep, .character("4"))
        _ = press(&deep, .escape, .escape)
        #expect(deep.screen == .overview && !deep.quitting)
    }

    @Test func qOnHomeQuitsAndCapitalQQuitsFromAnyScreen() {
        var home = DashboardState(now: t0)
        #expect(press(&home, .character("q")) == [.quit])
        var deep = DashboardState(now: t0)
        _ = press(&deep, .character("2"))
        #expect(deep.screen == .queue)
        #expect(press(&deep, .character("Q")) == [.quit])
        #expect(deep.quitting)
    }

    /// Q is a letter wherever text is typed or a dialog is open: a queue name with a Q after `:`,
    /// a filter pasted after `/`, a stray key in a confirmation.
    @Test func capitalQIsALetterInTheCommandLineTheFilterAndDialogs() {
        var command = DashboardState(now: t0)
        _ = press(&command, .character(":"))
        #expect(type(&command, "queue QA-Queue").isEmpty)
        #expect(!command.quitting && command.commandLine == "queue QA-Queue")
        _ = press(&command, .escape)
        #expect(command.commandLine == nil && !command.quitting)

        var filter = DashboardState(now: t0)
        _ = press(&filter, .character("/"))
        #expect(type(&filter, "Quarterly Q4").isEmpty)
        #expect(!filter.quitting && filter.filterEditing && filter.activeFilter == "Quarterly Q4")
        _ = press(&filter, .enter)
        #expect(filter.activeFilter == "Quarterly Q4" && !filter.quitting)

        var dialog = DashboardState(now: t0)
        dialog.confirmation = Confirmation(action: .deleteJobs([UUID()]), count: 1)
        #expect(press(&dialog, .character("Q")).isEmpty)
        #expect(!dialog.quitting && dialog.confirmation != nil, "Q neither quits nor answers the dialog")

        // Out of the modes, Q quits again (help says "Q quit from anywhere", and it does there too).
        _ = press(&dialog, .character("n"))
        #expect(press(&dialog, .character("Q")) == [.quit] && dialog.quitting)
        var help = DashboardState(now: t0)
        _ = press(&help, .character("?"))
        #expect(press(&help, .character("Q")) == [.quit] && help.quitting)
    }

    @Test func numberKeysAndTabSwitchScreensAndEscGoesBack() {
        var s = DashboardState(now: t0)
        #expect(press(&s, .character("3")) == [.loadDLQGroups])
        #expect(s.screen == .dlq)
        _ = press(&s, .tab)
        #expect(s.screen == .leads)
        _ = press(&s, .backTab, .backTab)
        #expect(s.screen == .queue)
        _ = press(&s, .escape)
        #expect(s.screen == .overview)
        #expect(press(&s, .character("6")) == [.loadAudit])
    }

    @Test func refreshIntervalKeysStayWithinBoundsAndPauseStopsTicks() {
        var s = DashboardState(now: t0)
        _ = press(&s, .character("]"))
        #expect(s.refreshInterval == 4)
        for _ in 0..<20 { _ = press(&s, .character("]")) }
        #expect(s.refreshInterval == DashboardState.maximumInterval)
        for _ in 0..<20 { _ = press(&s, .character("[")) }
        #expect(s.refreshInterval == DashboardState.minimumInterval)
        // First tick refreshes; a tick before the interval does not; after it, it does.
        #expect(reduce(&s, .tick(t0)) == [.refresh])
        var fresh = DashboardState(now: t0)
        _ = reduce(&fresh, .disconnected(reason: "x", retryIn: 0, at: t0))
        #expect(reduce(&fresh, .tick(t0.addingTimeInterval(0.1))) == [.refresh])
        _ = press(&s, .character("P"))
        #expect(s.refreshPaused)
        s.lastRefreshAt = t0
        #expect(reduce(&s, .tick(t0.addingTimeInterval(100))) == [])
        #expect(press(&s, .character("P")) == [.refresh])
    }

    @Test func disconnectedRetriesOnlyWhenTheRetryTimeComes() {
        var s = DashboardState(now: t0)
        _ = reduce(&s, .disconnected(reason: "connection refused", retryIn: 4, at: t0))
        guard case .disconnected(let reason, let retryAt) = s.connection else { Issue.record("not disconnected"); return }
        #expect(reason == "connection refused")
        #expect(retryAt == t0.addingTimeInterval(4))
        #expect(reduce(&s, .tick(t0.addingTimeInterval(3))) == [])
        #expect(reduce(&s, .tick(t0.addingTimeInterval(4))) == [.refresh])
    }

    @Test func commandModeSwitchesScreensAndReportsUnknownCommands() {
        var s = DashboardState(now: t0)
        _ = press(&s, .character(":"))
        #expect(s.commandLine == "")
        #expect(type(&s, "dlq") == [])
        #expect(s.commandLine == "dlq")
        #expect(press(&s, .enter) == [.loadDLQGroups])
        #expect(s.screen == .dlq)
        #expect(s.commandLine == nil)
        _ = press(&s, .character(":"))
        _ = type(&s, "frobnicate")
        _ = press(&s, .enter)
        #expect(s.flash?.kind == .error)
        #expect(s.flash?.text.contains("frobnicate") == true)
        _ = press(&s, .character(":"))
        _ = type(&s, "queue nosuch")
        _ = press(&s, .enter)
        #expect(s.flash?.text.contains("unknown queue 'nosuch'") == true)
        _ = press(&s, .character(":"))
        _ = type(&s, "scale emails -5")
        _ = press(&s, .enter)
        #expect(s.flash?.kind == .error)
        _ = press(&s, .character(":"))
        _ = type(&s, "q")
        #expect(press(&s, .enter) == [.quit])
    }

    @Test func escapeLeavesCommandModeWithoutRunningIt() {
        var s = DashboardState(now: t0)
        _ = press(&s, .character(":"))
        _ = type(&s, "q")
        #expect(press(&s, .escape) == [])
        #expect(s.commandLine == nil)
        #expect(!s.quitting)
    }

    @Test func helpOpensWithQuestionMarkAndAnyKeyClosesIt() {
        var s = DashboardState(now: t0)
        _ = press(&s, .character("?"))
        #expect(s.showHelp)
        // 'q' closes help rather than quitting.
        #expect(press(&s, .character("q")) == [])
        #expect(!s.showHelp)
    }

    @Test func filterTypingIsLiteralAndEscapeClearsIt() {
        var s = DashboardState(now: t0)
        _ = press(&s, .character("/"))
        #expect(s.filterEditing)
        _ = type(&s, "'); DROP TABLE job_queue;--")
        #expect(s.activeFilter == "'); DROP TABLE job_queue;--")
        _ = press(&s, .enter)
        #expect(!s.filterEditing)
        #expect(s.activeFilter == "'); DROP TABLE job_queue;--")
        // Esc with a filter active clears the filter instead of quitting.
        #expect(press(&s, .escape) == [])
        #expect(s.activeFilter == "")
        #expect(!s.quitting)
    }

    @Test func readOnlyRefusesEveryActionKey() {
        var s = DashboardState(now: t0, readOnly: true)
        for key in "rRdcp+-t" {
            #expect(press(&s, .character(key)) == [])
            #expect(s.confirmation == nil)
        }
        #expect(s.flash?.text.contains("read-only") == true)
        _ = press(&s, .character(":"))
        _ = type(&s, "pause emails")
        _ = press(&s, .enter)
        #expect(s.confirmation == nil)
    }
}

import Foundation
import Testing
import TerminalUI
@testable import QueueStore

/// The job view of a running sql-handler job (issue 18, item 8): its PostgreSQL backend, wait
/// event, the lock it waits for and who holds it; a role that may not see them is told so. And the
/// `c cancel` hint on a job that can be cancelled, "cancelling" on one being cancelled.
@Suite struct RunningJobViewTests {
    typealias F = DashboardFixture

    static func running(backend: JobBackend?, cancelling: Bool = false) -> JobDetail {
        JobDetail(
            job: JobInspection(
                id: F.id(91), queue: "reports", jobType: "build_report", status: "processing", attemptCount: 0, maxAttempts: 5,
                lockedBy: "app-2:5151:k2j4", createdAt: F.ago(700), runAt: F.ago(700), startedAt: F.ago(640),
                payloadJSON: #"{"period": "day"}"#, cancelRequestedAt: cancelling ? F.ago(2) : nil, handlerBackendPID: 48213),
            attempts: [], backend: backend)
    }

    static let waiting = JobBackend(pid: 48213, visible: true, role: "queuetop_worker_app", state: "active",
                                    waitEventType: "Lock", waitEvent: "relation", queryStart: F.ago(600),
                                    waitingFor: ["relation RowExclusiveLock on public.orders"], blockedBy: [47001])

    @Test func aRunningSQLJobShowsItsBackendItsWaitAndWhoBlocksIt() throws {
        let state = F.openedJobState(Self.running(backend: Self.waiting))
        try assertScreen(DashboardScreenTests.draw(state, 120, 40), named: "job-running-sql-120x40")
        try assertScreen(DashboardScreenTests.draw(state, 80, 24), named: "job-running-sql-80x24")
        let ascii = DashboardScreenTests.draw(state, 80, 24, ascii: true)
        try assertScreen(ascii, named: "job-running-sql-ascii-80x24")
        let text = DashboardScreenTests.draw(state, 120, 40).plainText()
        #expect(text.contains("pid 48213 as queuetop_worker_app, active, wait Lock: relation"))
        #expect(text.contains("waits for relation RowExclusiveLock on public.orders"))
        #expect(text.contains("blocked by pid 47001"))
        #expect(text.contains("c cancel"))
    }

    @Test func aRoleThatMayNotSeeTheBackendIsToldSoAndAGoneOneSaysSo() {
        let hidden = JobBackend(pid: 48213, visible: false, role: "queuetop_worker_app")
        let text = DashboardScreenTests.draw(F.openedJobState(Self.running(backend: hidden)), 120, 40).plainText()
        #expect(text.contains("pid 48213 as queuetop_worker_app: not visible to this role"))
        let gone = DashboardScreenTests.draw(F.openedJobState(Self.running(backend: nil)), 120, 40).plainText()
        #expect(gone.contains("pid 48213: gone (its statement ended)"))
    }

    @Test func aJobBeingCancelledSaysSoAndOffersNoSecondCancel() throws {
        let state = F.openedJobState(Self.running(backend: Self.waiting, cancelling: true))
        let buffer = DashboardScreenTests.draw(state, 120, 40)
        try assertScreen(buffer, named: "job-running-cancelling-120x40")
        #expect(buffer.plainText().contains("processing (cancelling)"))
        #expect(!buffer.plainText().contains("c cancel"))
    }

    /// Role names and lock targets come from the database: escape sequences in them are shown
    /// harmlessly, never sent to the terminal.
    @Test func hostileBytesInBackendTextAreNeutralised() {
        let hostile = JobBackend(pid: 1, visible: true, role: "evil\u{1b}[2Jrole", state: "active", waitEventType: "Lock",
                                 waitEvent: "relation", waitingFor: ["relation X on public.\"t\u{1b}]0;pwned\u{7}\""])
        let text = DashboardScreenTests.draw(F.openedJobState(Self.running(backend: hostile)), 120, 40).plainText()
        #expect(!text.contains("\u{1b}") && !text.contains("\u{7}"))
    }
}

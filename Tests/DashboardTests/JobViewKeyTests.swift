import Dashboard
import Foundation
@testable import QueueStore
import Testing

/// `:job ID`: an on-call engineer pastes a job id from a log and sees that job, whatever its
/// status, over whatever screen they were on; Esc puts them back exactly there.
@Suite struct JobViewKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    let id = UUID(uuidString: "0193a1b2-7c1e-7a2b-9f00-000000001ef7")!
    let key = DLQGroupKey(queue: "emails", fingerprint: "5d41402abc4b", errorType: "smtp_error")

    @discardableResult
    func press(_ s: inout DashboardState, _ keys: Key...) -> [Effect] {
        keys.flatMap { reduce(&s, .key($0)) }
    }

    /// Types `:text` and Enter.
    @discardableResult
    func command(_ s: inout DashboardState, _ text: String) -> [Effect] {
        ([Key.character(":")] + text.map { Key.character($0) } + [.enter]).flatMap { reduce(&s, .key($0)) }
    }

    func job(_ status: String, id: UUID? = nil) -> JobDetail {
        JobDetail(job: JobInspection(id: id ?? self.id, queue: "emails", jobType: "send", status: status, attemptCount: 0,
                                     maxAttempts: 5, createdAt: t0, runAt: t0, payloadJSON: "{}"),
                  attempts: [])
    }

    /// The DLQ's job list, cursor on row 2, two jobs marked, filtered: state an operator would
    /// hate to lose.
    func dlqJobs() -> DashboardState {
        var s = DashboardState(now: t0)
        s.connection = .connected
        s.lastRefreshAt = t0
        s.screen = .dlq
        s.dlqLevel = .jobs(key)
        s.dlqJobs = (0..<5).map { i in
            DLQJob(id: UUID(), queue: "emails", jobType: "send", errorType: "smtp_error", errorMessage: "421 #\(i)",
                   attemptCount: 5, maxAttempts: 5, lastErrorAt: t0, createdAt: t0)
        }
        s.cursor[.dlq] = 2
        s.marked = [s.dlqJobs[0].id, s.dlqJobs[1].id]
        s.filter[.dlq] = "421"
        return s
    }

    @Test func aJobIDOpensTheViewLoadingAndAsksForThatJob() {
        var s = dlqJobs()
        let effects = command(&s, "job \(id.uuidString.lowercased())")
        #expect(effects == [.loadJobDetail(id)])
        #expect(s.openedJob == OpenedJob(id: id))
        #expect(s.isInJobDetail && s.shownJobDetail == nil)  // "loading…" until it answers
        _ = reduce(&s, .jobDetailLoaded(id, job("pending")))
        #expect(s.shownJobDetail?.job.status == "pending")
        // Upper case, and the quotes a log line or a JSON document leaves around it, are fine.
        var quoted = DashboardState(now: t0)
        #expect(command(&quoted, "job \"\(id.uuidString)\"") == [.loadJobDetail(id)])
    }

    @Test func aBadIDOrNoIDIsRefusedInTheFooterAndChangesNothing() {
        let before = dlqJobs()
        var s = before
        #expect(command(&s, "job 0193a1b2-nope") == [])
        #expect(s.flash?.kind == .error)
        #expect(s.flash?.text == JobIDText.notAJobID("0193a1b2-nope"))
        #expect(s.flash?.text.hasPrefix("'0193a1b2-nope' is not a job id (a UUID such as 01a201e7-a38f-72ad-9bc7-bfa9eb24a81f") == true)
        s.flash = nil
        #expect(s == before)

        #expect(command(&s, "job") == [])
        #expect(s.flash?.text.hasPrefix("usage: :job ID") == true)
        s.flash = nil
        #expect(s == before)
    }

    @Test func anUnknownIDClosesTheViewAgainWithTheReasonAndChangesNothing() {
        let before = dlqJobs()
        var s = before
        command(&s, "job \(id)")
        _ = reduce(&s, .jobDetailLoaded(id, nil))
        #expect(s.openedJob == nil)
        #expect(s.flash?.kind == .error)
        #expect(s.flash?.text == "no job \(id.uuidString.lowercased()) (never enqueued, or removed by its queue's retention)")
        s.flash = nil
        #expect(s == before)
    }

    @Test func escGoesBackExactlyWhereTheOperatorWasAndReloadsThatList() {
        let before = dlqJobs()
        var s = before
        command(&s, "job \(id)")
        _ = reduce(&s, .jobDetailLoaded(id, job("completed")))
        press(&s, .character("G"))
        // The filter is not cleared by the first Esc: the job view closes first.
        #expect(press(&s, .escape) == [.loadDLQJobs(key)])
        #expect(s.openedJob == nil && !s.isInJobDetail)
        #expect(s.dlqLevel == .jobs(key) && s.cursorRow == 2 && s.marked == before.marked && s.activeFilter == "421")
        #expect(s.detailScroll == 0 && s.detailViewport == nil)

        // `q` on the overview quits, but not while a job is open over it: it closes the job.
        var home = DashboardState(now: t0)
        command(&home, "job \(id)")
        #expect(press(&home, .character("q")) == [])
        #expect(!home.quitting && home.openedJob == nil && home.screen == .overview)
    }

    @Test func overTheDLQsOwnJobDetailEscGivesItsScrollBack() {
        var s = DashboardState(now: t0)
        s.screen = .dlq
        s.dlqLevel = .job(key, UUID())
        s.detailScroll = 7
        command(&s, "job \(id)")
        #expect(s.detailScroll == 0)
        _ = reduce(&s, .detailViewportMeasured(DetailViewport(maxOffset: 40, visibleRows: 10)))
        press(&s, .pageDown)
        #expect(s.detailScroll == 10)
        // A second job opened over the first still goes back to the DLQ job as it was.
        command(&s, "job \(UUID())")
        press(&s, .escape)
        #expect(s.detailScroll == 7 && s.openedJob == nil)
        if case .job = s.dlqLevel {} else { Issue.record("still on the DLQ job: \(s.dlqLevel)") }
    }

    @Test func refreshesReloadTheOpenedJobAndShowItsNewStatus() {
        var s = dlqJobs()
        command(&s, "job \(id)")
        _ = reduce(&s, .jobDetailLoaded(id, job("pending")))
        // Only the opened job is reloaded: the list under it is hidden.
        #expect(reduce(&s, .tick(t0.addingTimeInterval(2))) == [.refresh, .loadJobDetail(id)])
        _ = reduce(&s, .jobDetailLoaded(id, job("processing")))
        #expect(s.shownJobDetail?.job.status == "processing")
        #expect(reduce(&s, .changed(at: t0.addingTimeInterval(3))) == [.refresh, .loadJobDetail(id)])
        _ = reduce(&s, .jobDetailLoaded(id, job("completed")))
        #expect(s.shownJobDetail?.job.status == "completed")
        #expect(press(&s, .control("r")) == [.refresh, .loadJobDetail(id)])
        // Pruned by retention while on screen: closed, with the reason.
        _ = reduce(&s, .jobDetailLoaded(id, nil))
        #expect(s.openedJob == nil && s.flash?.text.hasPrefix("no job") == true)
    }

    @Test func anAnswerForAJobNoLongerOpenIsDropped() {
        var s = DashboardState(now: t0)
        command(&s, "job \(id)")
        press(&s, .escape)
        _ = reduce(&s, .jobDetailLoaded(id, job("completed")))
        _ = reduce(&s, .jobDetailLoaded(id, nil))
        #expect(s.openedJob == nil && s.flash == nil)
    }

    @Test func keysThatWouldActOnTheHiddenListDoNothing() {
        let before = dlqJobs()
        var s = before
        command(&s, "job \(id)")
        let opened = s
        for k: Key in [.enter, .right, .character("l"), .character(" "), .character("/"), .character("r"),
                       .character("R"), .character("d"), .character("p"), .character("t"), .character("e")] {
            #expect(press(&s, k) == [], "\(k) must not reach the list under the job")
        }
        #expect(s == opened)
        #expect(s.confirmation == nil && s.marked == before.marked && !s.filterEditing)
    }

    @Test func switchingScreensClosesTheJob() {
        var s = dlqJobs()
        command(&s, "job \(id)")
        #expect(press(&s, .character("6")) == [.loadAudit])
        #expect(s.screen == .audit && s.openedJob == nil)
        command(&s, "job \(id)")
        _ = command(&s, "dlq")
        #expect(s.screen == .dlq && s.dlqLevel == .groups && s.openedJob == nil)
    }

    @Test func theDLQsJobLevelShowsAJobThatLeftTheDLQAndSaysWhenItIsGone() {
        var s = DashboardState(now: t0)
        s.screen = .dlq
        s.dlqLevel = .job(key, id)
        _ = reduce(&s, .jobDetailLoaded(id, job("dead_letter")))
        #expect(s.shownJobDetail?.job.status == "dead_letter")
        // Requeued (from here or elsewhere): the header's status says so; no error.
        _ = reduce(&s, .jobDetailLoaded(id, job("pending")))
        #expect(s.shownJobDetail?.job.status == "pending" && s.flash == nil)
        _ = reduce(&s, .jobDetailLoaded(id, nil))
        #expect(s.flash?.text == "job \(id.uuidString.lowercased()) is no longer in the DLQ")
        #expect(s.shownJobDetail?.job.status == "pending", "the last answer stays on screen")
    }
}

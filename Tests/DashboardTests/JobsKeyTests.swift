import Dashboard
import Foundation
import JobFilter
import QueueStore
import Testing

/// The Jobs screen's keys, with no database and no terminal: the filter line, Tab completion,
/// state tabs, paging, marks and bulk actions with their confirmation.
@Suite struct JobsKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    func press(_ state: inout DashboardState, _ keys: Key...) -> [Effect] {
        keys.flatMap { reduce(&state, .key($0)) }
    }

    func type(_ state: inout DashboardState, _ text: String) -> [Effect] {
        text.flatMap { reduce(&state, .key(.character($0))) }
    }

    func job(_ n: Int, _ state: JobState = .pending) -> JobSummary {
        JobSummary(id: UUID(uuidString: "01930000-0000-7000-8000-\(String(format: "%012d", n))")!, queue: "emails",
                   jobType: "send", state: state, createdAt: t0, runAt: t0)
    }

    /// On the Jobs screen with a page of three pending jobs loaded for the current request.
    func loaded() -> DashboardState {
        var state = DashboardState(now: t0)
        _ = press(&state, .character("9"))
        let request = state.jobs.request
        _ = reduce(&state, .jobsLoaded(request, JobSearchPage(jobs: [job(1), job(2), job(3)], next: job(3).id, window: nil),
                                       JobCount(value: 3, exact: true)))
        return state
    }

    @Test func nineOpensTheScreenAndLoadsThePendingTab() {
        var state = DashboardState(now: t0)
        let effects = press(&state, .character("9"))
        #expect(state.screen == .jobs)
        #expect(effects == [.loadJobs(JobSearchRequest(filter: JobFilter([FilterTerm(.state(.pending))]), limit: 50))])
    }

    @Test func aBadFilterStaysOnTheLineWithTheMessageAndAGoodOneSearches() {
        var state = loaded()
        _ = press(&state, .character("/"))
        _ = type(&state, "qeue:emails")
        #expect(press(&state, .enter) == [])
        #expect(state.jobs.editing == "qeue:emails")
        #expect(state.jobs.filterError?.description == "unknown field 'qeue' at 1: did you mean queue?")
        _ = press(&state, .home)  // not an editing key: ignored, the line stays
        for _ in 0..<11 { _ = press(&state, .backspace) }
        _ = type(&state, "payload.to=ana@example.com")
        let effects = press(&state, .enter)
        #expect(state.jobs.editing == nil && state.jobs.filterError == nil)
        #expect(state.jobs.filter == JobFilter([FilterTerm(.payloadEquals(path: ["to"], value: "ana@example.com"))]))
        #expect(effects == [.loadJobs(state.jobs.request)])
        #expect(state.jobs.request.filter.description == "payload.to=ana@example.com state:pending")
        // Q typed in the line is a letter.
        _ = press(&state, .character("/"))
        _ = type(&state, " Q")
        #expect(!state.quitting && state.jobs.editing == "payload.to=ana@example.com Q")
        _ = press(&state, .escape)
        #expect(state.jobs.editing == nil && state.jobs.filter.description == "payload.to=ana@example.com")
    }

    @Test func tabCompletesFieldsAndQueueNames() {
        #expect(JobFilterCompletion.complete("qu", queues: []) == "queue:")
        #expect(JobFilterCompletion.complete("state:dead -te", queues: []) == "state:dead -tenant:")
        #expect(JobFilterCompletion.complete("pay", queues: []) == "payload.")
        #expect(JobFilterCompletion.complete("queue:em", queues: ["emails", "emails-eu", "sync"]) == "queue:emails")
        #expect(JobFilterCompletion.complete("queue:s", queues: ["emails", "sync"]) == "queue:sync")
        #expect(JobFilterCompletion.complete("zz", queues: []) == "zz")
        #expect(JobFilterCompletion.complete("type:x", queues: ["x1"]) == "type:x")
    }

    @Test func stateTabsSortAndPagesEachAskForTheirOwnPage() {
        var state = loaded()
        #expect(press(&state, .character(">")) == [.loadJobs(state.jobs.request)])
        #expect(state.jobs.stateTab == .scheduled)
        _ = press(&state, .character("<"), .character("<"))
        #expect(state.jobs.stateTab == nil)  // wraps to "all"
        _ = press(&state, .character(">"))
        #expect(state.jobs.stateTab == .pending)
        _ = press(&state, .character("s"))
        #expect(state.jobs.sort == .oldestFirst)
        // An answer for an older request is dropped.
        _ = reduce(&state, .jobsLoaded(JobSearchRequest(filter: JobFilter()), JobSearchPage(jobs: [job(9)], next: nil, window: nil), nil))
        #expect(state.jobs.page == nil)
        _ = reduce(&state, .jobsLoaded(state.jobs.request, JobSearchPage(jobs: [job(1)], next: job(1).id, window: nil), nil))
        let next = press(&state, .character("n"))
        #expect(state.jobs.request.after == job(1).id && next == [.loadJobs(state.jobs.request)])
        _ = press(&state, .character("N"))
        #expect(state.jobs.request.after == nil)
    }

    @Test func enterOpensTheJobAndSpaceMarks() {
        var state = loaded()
        _ = press(&state, .down)
        _ = press(&state, .character(" "))
        #expect(state.marked == [job(2).id])
        #expect(press(&state, .enter) == [.loadJobDetail(job(3).id)])
        #expect(state.openedJob?.id == job(3).id)
        _ = press(&state, .escape)
        #expect(state.openedJob == nil && state.screen == .jobs)
    }

    @Test func bulkActionsConfirmWithTheCountAndSampleFirst() {
        var state = loaded()
        let filter = JobFilter([FilterTerm(.state(.pending))])
        #expect(press(&state, .character("c")) == [.preview(.jobsByFilter(.cancel, filter, asOf: nil))])
        #expect(state.confirmation?.count == nil)
        #expect(press(&state, .character("y")) == [])  // not before the count is on screen
        _ = reduce(&state, .previewCounted(.jobsByFilter(.cancel, filter, asOf: nil), count: 3, asOf: t0, sample: [job(1)]))
        #expect(state.confirmation?.prompt == "Cancel 3 jobs matching state:pending?")
        #expect(state.confirmation?.sample == [job(1)])
        #expect(press(&state, .character("y")) == [.perform(.jobsByFilter(.cancel, filter, asOf: t0))])
        _ = reduce(&state, .bulkEnded("cancelled 3 jobs matching state:pending (audit #1)", failed: false, at: t0))

        // Marked rows: the action names only them. r on the dead tab requeues.
        _ = press(&state, .character(" "))
        let marked = press(&state, .character("r"))
        #expect(marked == [.preview(.jobsByID(.runNow, [job(1).id], filterText: "state:pending", asOf: nil))])
        _ = press(&state, .escape)
        var dead = loaded()
        _ = press(&dead, .character(">"), .character(">"), .character(">"), .character(">"), .character(">"), .character(">"))
        #expect(dead.jobs.stateTab == .dead)
        _ = reduce(&dead, .jobsLoaded(dead.jobs.request, JobSearchPage(jobs: [job(4, .dead)], next: nil, window: nil), nil))
        #expect(press(&dead, .character("r")) == [.preview(.jobsByFilter(.requeue, JobFilter([FilterTerm(.state(.dead))]), asOf: nil))])
    }

    /// On a running job, `c` is the running-job cancel the job view uses (its worker stops the
    /// handler), not the bulk cancel, which does not apply to running jobs.
    @Test func cOnARunningJobAsksToCancelThatJob() {
        var state = DashboardState(now: t0)
        _ = press(&state, .character("9"))
        let request = state.jobs.request
        _ = reduce(&state, .jobsLoaded(request, JobSearchPage(jobs: [job(7, .running)], next: nil, window: nil),
                                       JobCount(value: 1, exact: true)))
        let running = job(7, .running)
        #expect(press(&state, .character("c")) == [])
        #expect(state.confirmation?.action == .cancelRunningJob(running.id, label: "send job \(ShortJobID.of(running.id)) on emails"))
        #expect(state.confirmation?.count == 1)
        #expect(press(&state, .character("y")) == [.perform(.cancelRunningJob(running.id, label: "send job \(ShortJobID.of(running.id)) on emails"))])
    }

    @Test func readOnlyRefusesActionsAndQueueDetailOpensItsJobs() {
        var state = loaded()
        state.readOnly = true
        #expect(press(&state, .character("d")) == [])
        #expect(state.confirmation == nil && state.flash?.kind == .error)

        var queue = DashboardState(now: t0)
        queue.screen = .queue
        queue.selectedQueue = "emails eu"
        let effects = press(&queue, .character("J"))
        #expect(queue.screen == .jobs && queue.jobs.filter.description == "queue:\"emails eu\"")
        #expect(effects == [.loadJobs(queue.jobs.request)])
        var command = DashboardState(now: t0)
        _ = press(&command, .character(":"))
        _ = type(&command, "jobs tenant:shop-9 error:\"smtp 550\"")
        _ = press(&command, .enter)
        #expect(command.screen == .jobs && command.jobs.filter.description == "tenant:shop-9 error:\"smtp 550\"")
    }
}

/// A payload search is not repeated by the refresh interval; an indexed one is.
@Suite struct JobsRefreshTests {
    @Test func aPayloadSearchRunsWhenAskedNotEveryInterval() throws {
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        var state = DashboardState(now: t0)
        _ = reduce(&state, .key(.character("9")))
        state.lastRefreshAt = t0
        state.connection = .connected
        #expect(reduce(&state, .tick(t0.addingTimeInterval(3))).contains(.loadJobs(state.jobs.request)))
        state.jobs.filter = try JobFilter.parse("payload.to=ana@example.com")
        _ = reduce(&state, .jobsLoaded(state.jobs.request, JobSearchPage(jobs: [], next: nil, window: nil), nil))
        let later = reduce(&state, .tick(t0.addingTimeInterval(6)))
        #expect(later.contains(.refresh) && !later.contains { if case .loadJobs = $0 { true } else { false } })
        #expect(reduce(&state, .key(.control("r"))).contains(.loadJobs(state.jobs.request)))

        // An indexed filter that took long (a rare key walking the primary key) is not repeated either.
        state.jobs.filter = try JobFilter.parse("key:store:7")
        _ = reduce(&state, .jobsLoaded(state.jobs.request, JobSearchPage(jobs: [], next: nil, window: nil), nil, took: 1.5))
        let slow = reduce(&state, .tick(t0.addingTimeInterval(9)))
        #expect(slow.contains(.refresh) && !slow.contains { if case .loadJobs = $0 { true } else { false } })
        _ = reduce(&state, .jobsLoaded(state.jobs.request, JobSearchPage(jobs: [], next: nil, window: nil), nil, took: 0.01))
        #expect(reduce(&state, .tick(t0.addingTimeInterval(12))).contains(.loadJobs(state.jobs.request)))
    }
}

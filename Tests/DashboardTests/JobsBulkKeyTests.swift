import Dashboard
import Foundation
import JobFilter
import QueueStore
import Testing

/// The Jobs screen's bulk actions while they run (the progress line, Esc to stop, one at a time)
/// and the priority change (`p`: a number first, checked, then the usual confirmation).
@Suite struct JobsBulkKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    func press(_ state: inout DashboardState, _ keys: Key...) -> [Effect] {
        keys.flatMap { reduce(&state, .key($0)) }
    }

    func type(_ state: inout DashboardState, _ text: String) -> [Effect] {
        text.flatMap { reduce(&state, .key(.character($0))) }
    }

    func job(_ n: Int) -> JobSummary {
        JobSummary(id: UUID(uuidString: "01930000-0000-7000-8000-\(String(format: "%012d", n))")!, queue: "emails",
                   jobType: "send", state: .pending, createdAt: t0, runAt: t0)
    }

    func loaded(readOnly: Bool = false) -> DashboardState {
        var state = DashboardState(now: t0, readOnly: readOnly)
        _ = press(&state, .character("9"))
        _ = reduce(&state, .jobsLoaded(state.jobs.request, JobSearchPage(jobs: [job(1), job(2), job(3)], next: nil, window: nil),
                                       JobCount(value: 3, exact: true)))
        return state
    }

    let pending = JobFilter([FilterTerm(.state(.pending))])

    /// A confirmed bulk cancel of `count` jobs, running.
    func running(_ count: Int = 100_000) -> DashboardState {
        var state = loaded()
        _ = press(&state, .character("c"))
        _ = reduce(&state, .previewCounted(.jobsByFilter(.cancel, pending, asOf: nil), count: count, asOf: t0, sample: [job(1)]))
        let effects = press(&state, .character("y"))
        #expect(effects == [.perform(.jobsByFilter(.cancel, pending, asOf: t0))])
        return state
    }

    @Test func aConfirmedBulkActionRunsWithAProgressLineAndTheScreenStaysLive() {
        var state = running()
        #expect(state.bulk?.progress == JobBulkProgress(action: .cancel, done: 0, total: 100_000, elapsed: 0))
        _ = reduce(&state, .bulkProgressed(JobBulkProgress(action: .cancel, done: 41_000, total: 0, elapsed: 5)))
        #expect(state.bulk?.progress.line() == "cancelling 41,000 / 100,000 · 8.2k/s · 5s")
        // Other keys keep working meanwhile: a tab, another screen, the refresh.
        #expect(press(&state, .character(">")).contains { if case .loadJobs = $0 { true } else { false } })
        _ = press(&state, .character("2"))
        #expect(state.screen == .queue && state.bulk != nil)
        #expect(reduce(&state, .tick(t0.addingTimeInterval(10))).contains(.refresh))
        // A second bulk action is refused while this one runs.
        _ = press(&state, .character("9"))
        _ = reduce(&state, .jobsLoaded(state.jobs.request, JobSearchPage(jobs: [job(1)], next: nil, window: nil), nil))
        #expect(press(&state, .character("d")) == [])
        #expect(state.flash?.text.contains("a bulk action is still running") == true)
        #expect(state.confirmation == nil)
    }

    @Test func escStopsItAfterTheBatchInFlightThenNavigatesAgain() {
        var state = running()
        #expect(press(&state, .escape) == [.stopBulk])
        #expect(state.bulk?.stopping == true && state.screen == .jobs)
        // Stopping: Esc is back to its usual meaning (here: leave the screen).
        _ = press(&state, .escape)
        #expect(state.screen == .overview)
        let effects = reduce(&state, .bulkEnded("stopped: cancelled 41,000 jobs; the rest were left as they were (audit #7)",
                                                failed: false, at: t0))
        #expect(state.bulk == nil)
        #expect(state.flash?.text.hasPrefix("stopped: cancelled 41,000 jobs") == true)
        #expect(effects.contains(.refresh))
        // Nothing running: Esc does not ask to stop anything.
        #expect(!press(&state, .escape).contains(.stopBulk))
    }

    @Test func aFailureMidwayEndsTheRunWithAnErrorThatSaysHowManyWereDone() {
        var state = running()
        _ = reduce(&state, .bulkEnded("cancel stopped by an error after 3,000 of 100,000 jobs (they stay done; audit #9): timeout",
                                      failed: true, at: t0))
        #expect(state.bulk == nil && state.flash?.kind == .error && state.flash?.text.contains("after 3,000 of 100,000") == true)
    }

    @Test func pAsksForAPriorityChecksItThenConfirmsWithCountAndSample() {
        var state = loaded()
        #expect(press(&state, .character("p")) == [])
        #expect(state.jobs.priorityPrompt == "")
        // Bad input: the reason under the line, nothing asked of the database, the line stays.
        for bad in ["abc", "1.5", "2000000", "--3", ""] {
            state.jobs.priorityPrompt = ""
            _ = type(&state, bad)
            #expect(press(&state, .enter) == [], "\(bad)")
            #expect(state.jobs.priorityPrompt != nil && state.jobs.priorityError != nil, "\(bad)")
            #expect(state.confirmation == nil)
        }
        #expect(state.jobs.priorityError == "type a priority: a whole number, higher runs first")
        _ = type(&state, "2000000")
        _ = press(&state, .enter)
        #expect(state.jobs.priorityError == "priority must be between -1000000 and 1000000, got 2000000")
        // Esc drops the line without doing anything.
        #expect(press(&state, .escape) == [] && state.jobs.priorityPrompt == nil && state.screen == .jobs)

        _ = press(&state, .character("p"))
        _ = type(&state, "-5")
        let asked = OperatorAction.jobsByFilter(.priority, pending, asOf: nil, priority: -5)
        #expect(press(&state, .enter) == [.preview(asked)])
        #expect(state.jobs.priorityPrompt == nil)
        _ = reduce(&state, .previewCounted(asked, count: 3, asOf: t0, sample: [job(1), job(2), job(3)]))
        #expect(state.confirmation?.prompt == "Change the priority of 3 jobs matching state:pending to priority -5?")
        #expect(state.confirmation?.sample.count == 3)
        #expect(press(&state, .character("y")) == [.perform(.jobsByFilter(.priority, pending, asOf: t0, priority: -5))])
        #expect(state.bulk?.progress.action == .priority)

        // Marked rows: only those.
        var marked = loaded()
        _ = press(&marked, .character(" "))
        _ = press(&marked, .character("p"))
        _ = type(&marked, "10")
        #expect(press(&marked, .enter) == [.preview(.jobsByID(.priority, [job(1).id], filterText: "state:pending", asOf: nil, priority: 10))])
    }

    @Test func pIsRefusedReadOnlyAndWithNothingToChange() {
        var ro = loaded(readOnly: true)
        #expect(press(&ro, .character("p")) == [])
        #expect(ro.jobs.priorityPrompt == nil && ro.flash?.text.hasPrefix("read-only") == true)
        var empty = DashboardState(now: t0)
        _ = press(&empty, .character("9"))
        _ = reduce(&empty, .jobsLoaded(empty.jobs.request, JobSearchPage(jobs: [], next: nil, window: nil), JobCount(value: 0, exact: true)))
        #expect(press(&empty, .character("p")) == [])
        #expect(empty.jobs.priorityPrompt == nil && empty.flash != nil)
    }

    @Test func theProgressLineReadsWell() {
        #expect(JobBulkProgress(action: .requeue, done: 950, total: 1_000, elapsed: 1).line(dot: " - ") == "requeueing 950 / 1,000 - 950/s - 1s")
        #expect(JobBulkProgress(action: .delete, done: 0, total: 12, elapsed: 0).line() == "deleting 0 / 12 · 0s")
        #expect(JobBulkProgress(action: .cancel, done: 1_200_000, total: 2_000_000, elapsed: 95).line(elapsed: 96)
                == "cancelling 1,200,000 / 2,000,000 · 12.6k/s · 1m36s")
    }
}

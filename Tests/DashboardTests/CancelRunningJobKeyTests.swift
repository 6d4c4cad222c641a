import Dashboard
import Foundation
@testable import QueueStore
import Testing

/// `c` cancels one running job: the opened job (`:job`, Enter on a busy job) or the job under the
/// cursor in a worker's busy view. It always asks first, names the job by its short id, and
/// refuses in the footer a job that cannot be cancelled. `:job` takes any unique part of an id.
@Suite struct CancelRunningJobKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    let id = UUID(uuidString: "0193a1b2-7c1e-7a2b-9f00-0000bfa9eb24")!

    @discardableResult
    func press(_ s: inout DashboardState, _ keys: Key...) -> [Effect] { keys.flatMap { reduce(&s, .key($0)) } }

    @discardableResult
    func command(_ s: inout DashboardState, _ text: String) -> [Effect] {
        ([Key.character(":")] + text.map { Key.character($0) } + [.enter]).flatMap { reduce(&s, .key($0)) }
    }

    func opened(_ status: String, cancelRequestedAt: Date? = nil) -> DashboardState {
        var s = DashboardState(now: t0)
        s.connection = .connected
        s.lastRefreshAt = t0
        let job = JobInspection(id: id, queue: "emails", jobType: "send_email", status: status, attemptCount: 0, maxAttempts: 5,
                                lockedBy: status == "processing" ? "w-1" : nil, createdAt: t0, runAt: t0, payloadJSON: "{}",
                                cancelRequestedAt: cancelRequestedAt)
        s.openedJob = OpenedJob(id: id, detail: JobDetail(job: job, attempts: []))
        return s
    }

    @Test func cOnTheOpenedRunningJobAsksThenCancelsIt() {
        var s = opened("processing")
        #expect(press(&s, .character("c")) == [])
        let action = OperatorAction.cancelRunningJob(id, label: "send_email job bfa9eb24 on emails")
        #expect(s.confirmation == Confirmation(action: action, count: 1))
        #expect(s.confirmation?.prompt == "Cancel send_email job bfa9eb24 on emails? Its handler is stopped; the job is not run again.")
        #expect(press(&s, .character("y")) == [.perform(action)])
        #expect(s.openedJob?.id == id, "the job stays on screen to show its state change")
        // n instead: nothing is done.
        var declined = opened("processing")
        press(&declined, .character("c"))
        #expect(press(&declined, .character("n")) == [] && declined.confirmation == nil)
    }

    @Test func aJobThatCannotBeCancelledIsRefusedInTheFooter() {
        for (status, requested, text) in [("completed", nil, "job bfa9eb24 is completed: only a pending or running job can be cancelled"),
                                          ("dead_letter", nil, "job bfa9eb24 is dead_letter: only a pending or running job can be cancelled"),
                                          ("processing", t0, "job bfa9eb24 is already being cancelled: its worker is stopping it")] as [(String, Date?, String)] {
            var s = opened(status, cancelRequestedAt: requested)
            #expect(press(&s, .character("c")) == [])
            #expect(s.confirmation == nil && s.flash?.text == text && s.flash?.kind == .error)
        }
        // Read-only: refused before anything else.
        var ro = opened("processing")
        ro.readOnly = true
        press(&ro, .character("c"))
        #expect(ro.confirmation == nil && ro.flash?.text.hasPrefix("read-only") == true)
        // Still loading.
        var loading = DashboardState(now: t0)
        loading.openedJob = OpenedJob(id: id)
        press(&loading, .character("c"))
        #expect(loading.confirmation == nil)
    }

    @Test func cOnABusyJobOfTheWorkersScreenAsksToCancelThatJob() {
        var s = DashboardState(now: t0)
        s.connection = .connected
        s.snapshot = HealthSnapshot(generatedAt: t0, queues: [], alerts: [], errorTypes: [],
                                    workers: [WorkerInfo(id: "w-1", host: "h", pid: 1, queues: [], concurrency: 2, inFlight: 1,
                                                         status: "running", startedAt: t0, lastSeen: t0)],
                                    circuitBreakers: [], leadMigrations: [])
        s.screen = .workers
        s.workerJobs = [InFlightJob(id: id, queue: "emails", jobType: "send_email", tenant: nil, workerID: "w-1", startedAt: t0, heartbeatAt: t0)]
        // On the worker row, c means nothing (it is no job).
        press(&s, .character("c"))
        #expect(s.confirmation == nil)
        press(&s, .enter, .character("c"))
        #expect(s.confirmation?.action == .cancelRunningJob(id, label: "send_email job bfa9eb24 on emails"))
    }

    @Test func jobWithPartOfAnIDFindsItFirstAndOpensTheOneMatch() {
        var s = DashboardState(now: t0)
        #expect(command(&s, "job bfa9eb24") == [.findJob("bfa9eb24")])
        #expect(s.openedJob == nil)
        #expect(reduce(&s, .jobFound("bfa9eb24", .found(id))) == [.loadJobDetail(id)])
        #expect(s.openedJob?.id == id)

        var none = DashboardState(now: t0)
        #expect(reduce(&none, .jobFound("beef", .noMatch)) == [])
        #expect(none.openedJob == nil && none.flash?.text.hasPrefix("no job matches 'beef'") == true)
        var many = DashboardState(now: t0)
        #expect(reduce(&many, .jobFound("01a2", .ambiguous(count: 7, sample: [id]))) == [])
        #expect(many.flash?.text.hasPrefix("ambiguous: 7 jobs match '01a2'") == true)
        // Too short, or not hex: refused at once, no query.
        var bad = DashboardState(now: t0)
        #expect(command(&bad, "job abc") == [] && bad.flash?.kind == .error)
        #expect(command(&bad, "job zzzzzzzz") == [])
    }
}

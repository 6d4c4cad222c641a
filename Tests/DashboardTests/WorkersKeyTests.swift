import Dashboard
import Foundation
@testable import QueueStore
import Testing

/// The Workers screen's keys: Enter walks from a worker into the jobs it holds and from a job into
/// the job view; Esc walks back; p and d ask before quieting, resuming or draining, and refuse a
/// worker in a state the command does not apply to.
@Suite struct WorkersKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    let jobID = UUID(uuidString: "0193a1b2-7c1e-7a2b-9f00-000000000042")!

    func worker(_ id: String, pid: Int, status: String, inFlight: Int) -> WorkerInfo {
        WorkerInfo(id: id, host: "h", pid: pid, queues: [], concurrency: 2, inFlight: inFlight, status: status,
                   startedAt: t0, lastSeen: t0)
    }

    func workersScreen() -> DashboardState {
        var s = DashboardState(now: t0)
        s.connection = .connected
        s.lastRefreshAt = t0
        s.snapshot = HealthSnapshot(generatedAt: t0, queues: [], alerts: [], errorTypes: [],
                                    workers: [worker("w-1", pid: 1, status: "running", inFlight: 0),
                                              worker("w-2", pid: 2, status: "quiet", inFlight: 2),
                                              worker("w-3", pid: 3, status: "draining", inFlight: 0)],
                                    circuitBreakers: [], leadMigrations: [])
        s.screen = .workers
        s.workerJobs = [InFlightJob(id: UUID(), queue: "q", jobType: "a", tenant: nil, workerID: "w-2", startedAt: t0, heartbeatAt: t0),
                        InFlightJob(id: jobID, queue: "q", jobType: "b", tenant: "t", workerID: "w-2", startedAt: t0, heartbeatAt: t0)]
        return s
    }

    @discardableResult
    func press(_ s: inout DashboardState, _ keys: Key...) -> [Effect] { keys.flatMap { reduce(&s, .key($0)) } }

    @Test func enterWalksIntoAWorkersJobsThenOpensOneAndEscWalksBack() {
        var s = workersScreen()
        #expect(press(&s, .character("5")) == [.loadWorkerJobs], "the busy view loads with the screen")
        press(&s, .enter)
        #expect(s.busyWorker == nil && s.flash?.text == "worker h pid 1 holds no job right now")
        press(&s, .down, .enter, .down)
        #expect(s.busyWorker == "w-2" && s.focusedBusyJob?.id == jobID)
        #expect(press(&s, .enter) == [.loadJobDetail(jobID)])
        #expect(s.openedJob?.id == jobID)
        press(&s, .escape)
        #expect(s.openedJob == nil && s.busyWorker == "w-2", "Esc closes the job first")
        press(&s, .escape)
        #expect(s.busyWorker == nil && s.focusedWorker?.id == "w-2", "then back to the workers, on the same one")
        press(&s, .escape)
        #expect(s.screen == .overview)
    }

    @Test func pQuietsOrResumesDDrainsAfterAskingAndInapplicableStatesAreRefused() {
        var s = workersScreen()
        press(&s, .character("p"))
        #expect(s.confirmation == Confirmation(action: .commandWorker(.quiet, workerID: "w-1", label: "worker h pid 1"), count: 1))
        #expect(press(&s, .character("y")) == [.perform(.commandWorker(.quiet, workerID: "w-1", label: "worker h pid 1"))])
        press(&s, .down, .character("p"))
        #expect(s.confirmation?.action == .commandWorker(.resume, workerID: "w-2", label: "worker h pid 2"))
        press(&s, .character("n"))
        press(&s, .character("d"))
        #expect(s.confirmation?.action == .commandWorker(.drain, workerID: "w-2", label: "worker h pid 2"))
        press(&s, .escape)
        press(&s, .down, .character("p"))
        #expect(s.confirmation == nil && s.flash?.text == "worker h pid 3 is draining: nothing to quiet")
        s.readOnly = true
        press(&s, .character("d"))
        #expect(s.confirmation == nil && s.flash?.text.hasPrefix("read-only") == true)
    }
}

import Foundation
import QueueStore

// The Workers screen has two levels: the workers (the cursor picks one; the pane under it shows
// the jobs that worker holds), and, after Enter, those jobs (the cursor picks one; Enter opens it
// in the job view `:job` uses). Esc goes back up. The worker actions (quiet/resume, drain) act on
// the worker on screen at either level.
//
// `focusedBusyJob` is the seam for acting on one in-flight job: the job explorer's cancel key
// will act on it, through a confirmation like every other action.

extension DashboardState {
    /// The worker the screen is about: the one whose jobs have the cursor, else the one under it.
    public var focusedWorker: WorkerInfo? {
        guard screen == .workers else { return nil }
        if let busyWorker { return snapshot?.workers.first { $0.id == busyWorker } }
        let rows = visibleWorkers
        return rows.isEmpty ? nil : rows[cursorRow]
    }

    /// The in-flight jobs of one worker, oldest first.
    public func busyJobs(of workerID: String) -> [InFlightJob] {
        workerJobs.filter { $0.workerID == workerID }
    }

    /// The in-flight job under the cursor (only once Enter moved the cursor into the jobs).
    public var focusedBusyJob: InFlightJob? {
        guard screen == .workers, let busyWorker else { return nil }
        let rows = busyJobs(of: busyWorker)
        return rows.isEmpty ? nil : rows[cursorRow]
    }
}

/// Enter on the Workers screen: from a worker into its jobs, from a job into the job view.
func drillIntoWorker(_ state: inout DashboardState) -> [Effect] {
    if state.busyWorker != nil {
        guard let job = state.focusedBusyJob else { return [] }
        return openJob(&state, id: job.id)
    }
    guard let worker = state.focusedWorker else { return [] }
    // The registry's count may be ahead of the busy view's last load: go in and show it loading.
    guard !state.busyJobs(of: worker.id).isEmpty || worker.inFlight > 0 else {
        state.flash = Flash("\(workerLabel(worker)) holds no job right now", kind: .info, at: state.now)
        return []
    }
    state.busyWorker = worker.id
    state.cursor[.workers] = 0
    return []
}

/// Back from a worker's jobs to the workers, with the cursor on that worker. False when the
/// cursor was already on the workers.
func leaveBusyWorker(_ state: inout DashboardState) -> Bool {
    guard let id = state.busyWorker else { return false }
    state.busyWorker = nil
    state.cursor[.workers] = state.visibleWorkers.firstIndex { $0.id == id } ?? 0
    return true
}

/// `p` (quiet a running worker, resume a quiet one) and `d` (drain) on the Workers screen. A
/// worker in a state the command does not apply to is refused here, in words, before any dialog.
func workerAction(_ key: Character, in state: inout DashboardState) -> OperatorAction? {
    guard let worker = state.focusedWorker else { return nil }
    let kind: WorkerCommandKind = key == "d" ? .drain : worker.status == "quiet" ? .resume : .quiet
    guard kind.appliesTo.contains(worker.status) else {
        state.flash = Flash("\(workerLabel(worker)) is \(worker.status): nothing to \(kind.rawValue)", kind: .error, at: state.now)
        return nil
    }
    return .commandWorker(kind, workerID: worker.id, label: workerLabel(worker))
}

/// "worker web-1 pid 4242": how the dashboard names a worker to a person.
func workerLabel(_ worker: WorkerInfo) -> String {
    "worker \(worker.host ?? "?") pid \(worker.pid.map(String.init) ?? "?")"
}

import Foundation
import QueueStore

// `c` on one job: the opened job (`:job`, Enter on a busy job) or the job under the cursor in a
// worker's busy view. It asks first (a dialog naming the job), then calls cancel_running_job: a
// running job's worker stops the handler within about a second and the job ends cancelled
// (operator); a job still pending is cancelled at once. The jobs screen uses the same action.

/// The cancel action for the job in focus, or nil with the reason in the footer when that job
/// cannot be cancelled (finished, already being cancelled, not loaded yet).
func cancelJobAction(in state: inout DashboardState) -> OperatorAction? {
    if let opened = state.openedJob {
        guard let job = opened.detail?.job else {
            state.flash = Flash("the job is still loading", kind: .info, at: state.now)
            return nil
        }
        if let refusal = cancelRefusal(status: job.status, cancelRequestedAt: job.cancelRequestedAt, id: job.id) {
            state.flash = Flash(refusal, kind: .error, at: state.now)
            return nil
        }
        return .cancelRunningJob(job.id, label: jobLabel(type: job.jobType, id: job.id, queue: job.queue))
    }
    guard let job = state.focusedBusyJob else { return nil }
    return .cancelRunningJob(job.id, label: jobLabel(type: job.jobType, id: job.id, queue: job.queue))
}

/// Why a job in this state cannot be cancelled, in the footer's words; nil when it can.
public func cancelRefusal(status: String, cancelRequestedAt: Date?, id: UUID) -> String? {
    let short = ShortJobID.of(id)
    switch status {
    case "processing" where cancelRequestedAt != nil:
        return "job \(short) is already being cancelled: its worker is stopping it"
    case "processing", "pending": return nil
    default: return "job \(short) is \(status): only a pending or running job can be cancelled"
    }
}

/// "send_email job 9bc7bfa9 on emails": how a dialog and the footer name one job.
func jobLabel(type: String, id: UUID, queue: String) -> String {
    "\(type) job \(ShortJobID.of(id)) on \(queue)"
}

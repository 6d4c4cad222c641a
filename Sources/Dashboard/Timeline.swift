import Foundation
import QueueStore

// The Timeline screen (0, `:timeline`): what happened, newest first. Enter opens an entry where
// it came from: a job its audit row concerned, the audit row itself, or the queue an alert was
// about. docs/TIMELINE.md.

extension DashboardState {
    /// The timeline's entries after the `/` filter (event, queue, actor or text).
    public var visibleTimeline: [TimelineEntry] {
        (timeline ?? []).filter {
            matchesFilter($0.event) || matchesFilter($0.queue ?? "") || matchesFilter($0.actor ?? "")
                || matchesFilter($0.summary)
        }
    }

    public var focusedTimelineEntry: TimelineEntry? {
        guard screen == .timeline else { return nil }
        let rows = visibleTimeline
        return rows.isEmpty ? nil : rows[cursorRow]
    }
}

/// Enter on a timeline entry: the job it concerned (over the timeline, Esc comes back), else its
/// audit row on the Audit screen, else an alert's queue. A mark has nothing behind it: the
/// detail box under the list already shows all of it.
func openTimelineEntry(_ state: inout DashboardState) -> [Effect] {
    guard let entry = state.focusedTimelineEntry else { return [] }
    if let job = entry.jobID { return openJob(&state, id: job) }
    switch entry.source {
    case .audit:
        state.auditFocus = entry.id
        state.filter[.audit] = nil
        let effects = switchScreen(&state, to: .audit)
        focusAuditRow(&state)
        return effects
    case .alert:
        guard let queue = entry.queue, state.snapshot?.queue(named: queue) != nil else {
            state.flash = Flash("this alert names no queue on screen; its message is in the box below", kind: .info, at: state.now)
            return []
        }
        state.selectedQueue = queue
        return switchScreen(&state, to: .queue)
    case .mark:
        return []
    }
}

/// Puts the Audit screen's cursor on the row the Timeline opened, once that row is loaded. A row
/// older than the audit list's 500 says so instead of leaving the cursor somewhere else. A row
/// newer than the list on hand (an action taken since the Audit screen last loaded) waits for
/// the reload that opening the screen asks for: it was once called "older than the 500 rows".
func focusAuditRow(_ state: inout DashboardState) {
    guard let id = state.auditFocus, state.screen == .audit, !state.audit.isEmpty else { return }
    if let row = state.visibleAudit.firstIndex(where: { $0.id == id }) {
        state.auditFocus = nil
        state.cursor[.audit] = row
    } else if let newest = state.audit.map(\.id).max(), id > newest {
        return
    } else {
        state.auditFocus = nil
        state.flash = Flash("audit row #\(id) is older than the 500 rows this screen lists: `queuetop timeline --json` has it",
                            kind: .info, at: state.now)
    }
}

/// `y`: the opened job's payload (or the DLQ's open job's), else the id of the job under the
/// cursor wherever a list shows jobs. The drawing thread does the copying (`Effect.copy`).
func copySelection(_ state: inout DashboardState) -> [Effect] {
    if let detail = state.shownJobDetail {
        return [.copy(text: detail.job.payloadJSON, what: "payload of job \(ShortJobID.of(detail.job.id))")]
    }
    if state.isInJobDetail {
        state.flash = Flash("the job is still loading; press y again in a moment", kind: .info, at: state.now)
        return []
    }
    let id: UUID?
    switch state.screen {
    case .dlq: id = state.focusedJob?.id
    case .workers: id = state.focusedBusyJob?.id
    case .log:
        let lines = state.visiblePoolLog
        id = lines.isEmpty ? nil : lines[state.cursorRow].jobID
    case .timeline: id = state.focusedTimelineEntry?.jobID
    case .jobs: id = state.focusedSearchJob?.id
    case .overview, .queue, .leads, .audit, .schedules: id = nil
    }
    guard let id else {
        state.flash = Flash("nothing to copy here: y copies the selected job's id, or the payload of an open job",
                            kind: .info, at: state.now)
        return []
    }
    return [.copy(text: id.uuidString.lowercased(), what: "job id")]
}

/// `:dump FILE` and `:dump! FILE`: the screen as plain text. A relative path is the dashboard's
/// working directory's; `~/` is the home directory. An existing file is refused without `!`.
func dumpCommand(_ state: inout DashboardState, _ args: [String], overwrite: Bool) -> [Effect] {
    let path = args.joined(separator: " ")
    guard !path.isEmpty else {
        state.flash = Flash("usage: :dump FILE (:dump! FILE overwrites an existing file)", kind: .error, at: state.now)
        return []
    }
    return [.dumpScreen(path: path, overwrite: overwrite)]
}

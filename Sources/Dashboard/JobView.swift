import Foundation
import QueueStore

// `:job ID` — any job by id, whatever its status, drawn over the screen the operator was on.
// Nothing underneath changes while it is open (screen, DLQ level, cursors, filters), so closing
// it is the whole of "going back". It shares `detailScroll` / `detailViewport` with the DLQ's
// job level: only one job detail is ever on screen.

/// `:job TEXT`. A bad id is refused in the footer and changes nothing; a good one opens the view
/// ("loading…") and asks for the job. An id that turns out unknown closes it again, with the
/// reason (`jobDetailLoaded`).
func openJob(_ state: inout DashboardState, _ text: String?) -> [Effect] {
    guard let text else {
        state.flash = Flash("usage: :job ID (the job's UUID, or any unique part such as the short id a screen shows)",
                            kind: .error, at: state.now)
        return []
    }
    if let id = JobIDText.parse(text) { return openJob(&state, id: id) }
    guard JobIDText.couldBePart(text) else {
        state.flash = Flash(JobIDText.notAJobID(text), kind: .error, at: state.now)
        return []
    }
    return [.findJob(text)]
}

/// The answer to `:job PART`: the one job it names opens; none or several are said in the footer.
func jobFound(_ state: inout DashboardState, _ text: String, _ lookup: JobLookup) -> [Effect] {
    if case .found(let id) = lookup { return openJob(&state, id: id) }
    state.flash = Flash(lookup.refusal(for: text) ?? "", kind: .error, at: state.now)
    return []
}

/// Opens one job by id over the current screen (`:job`, and Enter on a job of the busy view).
func openJob(_ state: inout DashboardState, id: UUID) -> [Effect] {
    // Opening one job over another replaces it; the scroll to give back is still the one from
    // before the first.
    let behind = state.openedJob?.scrollBehind ?? state.detailScroll
    state.openedJob = OpenedJob(id: id, scrollBehind: behind)
    state.detailScroll = 0
    state.detailViewport = nil
    return [.loadJobDetail(id)]
}

/// Esc (or q, h, ←) in the opened job: back to the screen underneath, with its DLQ job's scroll
/// as it was, and its list reloaded at once (it was not refreshed while hidden).
func closeOpenedJob(_ state: inout DashboardState) -> [Effect] {
    dismissOpenedJob(&state)
    return reloadCurrentList(state)
}

/// Closes the opened job without reloading anything (a screen switch reloads its own list).
func dismissOpenedJob(_ state: inout DashboardState) {
    guard let opened = state.openedJob else { return }
    state.openedJob = nil
    state.detailScroll = opened.scrollBehind
    state.detailViewport = nil
}

/// A job answered: the opened one, the DLQ's open job, or neither any more (the operator moved
/// on while it loaded; then it is dropped).
func jobLoaded(_ state: inout DashboardState, _ id: UUID, _ detail: JobDetail?) {
    if state.openedJob?.id == id {
        if let detail {
            state.openedJob?.detail = detail
        } else {
            // Unknown on the first load, or pruned by retention while on screen: either way
            // there is nothing to show, and staying on an empty view would say otherwise.
            dismissOpenedJob(&state)
            state.flash = Flash(JobIDText.notFound(id), kind: .error, at: state.now)
        }
    }
    guard case .job(_, let dlqID) = state.dlqLevel, dlqID == id else { return }
    if let detail {
        // A job requeued from here is no longer dead: its status in the header says so.
        state.jobDetail = detail
    } else if state.openedJob == nil {
        state.flash = Flash("job \(id.uuidString.lowercased()) is no longer in the DLQ", kind: .error, at: state.now)
    }
}

/// The opened job is read-only and hides the list underneath, so keys that would act on that
/// list (Enter, Space, `/`, the action keys) must not reach it. Everything else works as
/// anywhere: scrolling, back, switching screens, `:`, help, refresh control.
func openedJobIgnores(_ key: Key) -> Bool {
    switch key {
    case .enter, .right, .character("l"), .character(" "), .character("/"): return true
    // c cancels the opened job itself (CancelRunningJob.swift); the other action keys act on lists.
    case .character("c"): return false
    case .character(let c): return actionKeys.contains(c)
    default: return false
    }
}

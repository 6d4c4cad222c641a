import Foundation

/// The keys each screen answers to, as the reducer handles them (Sources/Dashboard/Reducer.swift
/// and Actions.swift): one list feeds both the help overlay and the footer hints, so the two
/// cannot disagree.
enum KeyMap {
    struct Entry {
        let keys: String
        let does: String
    }

    struct Section {
        let title: String
        let entries: [Entry]
    }

    /// The screen (and DLQ level) by name, under any opened job: "Overview", "DLQ jobs".
    static func placeName(_ state: DashboardState) -> String {
        guard state.screen == .dlq else { return state.screen.title }
        switch state.dlqLevel {
        case .groups: return "DLQ groups"
        case .jobs: return "DLQ jobs"
        case .job: return "DLQ job detail"
        }
    }

    /// What `/` narrows on this screen, for the filter prompt's placeholder.
    static func listNoun(_ state: DashboardState) -> String {
        switch state.screen {
        case .overview, .queue: return "queues by name"
        case .dlq:
            if case .jobs = state.dlqLevel { return "jobs by id, type or error" }
            return "groups by queue, error type, pattern, fingerprint or message"
        case .leads: return "migrations by name or status"
        case .workers: return "workers by host or queue"
        case .audit: return "actions, actors or roles"
        case .schedules: return "schedules by name, queue or job type"
        case .log: return "lines by level, queue, job id or text"
        case .jobs: return "jobs: queue: type: state: tenant: key: error: worker: age> since: id: payload.a=v payload?k"
        case .timeline: return "entries by event, queue, who or text"
        }
    }

    /// The operator actions of the current screen (and DLQ level). Empty in read-only mode.
    static func actions(_ state: DashboardState) -> [Entry] {
        // An opened job's keys never act on the list hidden under it; c cancels the job itself.
        guard !state.readOnly else { return [] }
        if state.openedJob != nil {
            return canCancelOpenedJob(state) ? [Entry(keys: "c", does: "cancel this job: its handler is stopped (asks first)")] : []
        }
        switch state.screen {
        case .overview, .queue:
            return [Entry(keys: "p", does: "pause / resume the queue"),
                    Entry(keys: "+ -", does: "raise / lower its concurrency"),
                    Entry(keys: "t", does: "trigger: run its due jobs now")]
        case .dlq:
            switch state.dlqLevel {
            case .groups:
                return [Entry(keys: "r", does: "requeue every job of the group (count and sample shown first)"),
                        Entry(keys: "R", does: "the same, with attempts reset"),
                        Entry(keys: "d", does: "delete every job of the group"),
                        Entry(keys: "a", does: "acknowledge: seen, no longer NEW for your role"),
                        Entry(keys: "z", does: "snooze the group for 1 hour"),
                        Entry(keys: "x o", does: "resolve (a new failure marks it REGRESSED) / reopen")]
            case .jobs:
                return [Entry(keys: "Space", does: "mark / unmark the job"),
                        Entry(keys: "r", does: "requeue the marked jobs, or this one"),
                        Entry(keys: "R", does: "the same, with attempts reset"),
                        Entry(keys: "d", does: "delete the marked jobs, or this one")]
            case .job:
                return [Entry(keys: "r", does: "requeue this job"),
                        Entry(keys: "R", does: "requeue it with attempts reset"),
                        Entry(keys: "d", does: "delete it")]
            }
        case .leads:
            return [Entry(keys: "c", does: "cancel the selected migration")]
        case .schedules:
            return [Entry(keys: "e", does: "enable / disable the schedule"),
                    Entry(keys: "t", does: "run it now: enqueue its job once (asks first)")]
        case .workers:
            return [Entry(keys: "p", does: "quiet the worker (no new jobs) / resume it"),
                    Entry(keys: "d", does: "drain it: finish its jobs, then exit")]
                + (state.focusedBusyJob != nil ? [Entry(keys: "c", does: "cancel the job: its handler is stopped (asks first)")] : [])
        case .jobs:
            return [Entry(keys: "Space", does: "mark / unmark the job"),
                    Entry(keys: "c x", does: "cancel the marked (or all matching) pending, scheduled, retrying jobs;"
                          + " on a running job, stop it"),
                    Entry(keys: "r", does: "run now (pending, scheduled, retrying) or requeue (dead, cancelled)"),
                    Entry(keys: "p", does: "change the priority of the marked (or all matching) pending, scheduled, retrying jobs"),
                    Entry(keys: "d", does: "delete the marked (or all matching) dead, cancelled, completed jobs")]
        case .audit:
            return [Entry(keys: "u", does: "undo the selected requeue: its jobs not started yet go back")]
        case .log, .timeline:
            return []
        }
    }

    /// Help for the current screen: its actions first (what the operator most likely came for),
    /// then the keys every screen shares, then the `:` commands; a short terminal cuts from the end.
    static func sections(_ state: DashboardState, ascii: Bool) -> [Section] {
        let updown = ascii ? "Up Down j k" : "↑ ↓ j k"
        let detail = state.isInJobDetail
        let back = state.screen == .overview && state.openedJob == nil ? "quit" : "back"
        // Enter opens a queue (overview), a DLQ group or job, a worker's jobs or one of them;
        // elsewhere it does nothing, so help does not offer it.
        let opens = !detail && [.overview, .dlq, .workers, .log, .jobs, .timeline].contains(state.screen)
        let keys = [
            Entry(keys: updown, does: detail ? "scroll the payload, result and attempts" : "move"),
            Entry(keys: "PgUp PgDn g G", does: detail ? "scroll a page, top, bottom" : "a page up / down, first / last row"),
        ] + (opens ? [Entry(keys: "Enter l", does: "open")] : []) + [
        ] + (state.bulk.map { $0.stopping } == false ? [Entry(keys: "Esc", does: "stop the running bulk action after this batch")] : []) + [
            Entry(keys: "Esc q h", does: state.activeFilter.isEmpty || state.openedJob != nil ? back : "clear the filter, then \(back)"),
            Entry(keys: "1-9 0 Tab", does: "switch screen (9: jobs, 0: the timeline)"),
            Entry(keys: "y", does: detail ? "copy the payload (OSC 52)" : "copy the selected job's id (OSC 52)"),
        ] + (state.openedJob == nil ? [Entry(keys: "/", does: "filter " + listNoun(state))] : [])
          + (state.screen == .jobs && state.openedJob == nil ? [
            Entry(keys: "< >", does: "previous / next state tab"),
            Entry(keys: "s n N", does: "sort newest / oldest first, next page, previous page"),
            Entry(keys: "Tab", does: "while typing a filter: complete a field or queue name"),
          ] : [])
          + (state.screen == .queue && state.openedJob == nil ? [Entry(keys: "J", does: "this queue's jobs (Jobs screen)")] : []) + [
            Entry(keys: "[ ] P ^R", does: "refresh faster / slower, pause refresh, refresh now"),
            Entry(keys: "Q", does: "quit from anywhere"),
        ]
        var sections: [Section] = []
        if state.readOnly {
            sections.append(Section(title: "Actions", entries: [Entry(keys: "", does: "read-only: actions are disabled")]))
        } else if !actions(state).isEmpty {
            sections.append(Section(title: "Actions", entries: actions(state)))
        }
        sections.append(Section(title: "Keys", entries: keys))
        sections.append(Section(title: "Commands (type : first)", entries: [
            Entry(keys: ":job ID", does: "any job by id: status, timings, result, error, attempts"),
            Entry(keys: ":ctx [NAME]", does: "list the contexts file's databases and switch (actions act on the current one only)"),
            Entry(keys: ":all", does: "the all view: every context added up; s sums by queue, Enter opens a row in its context"),
            Entry(keys: "", does: dashboardCommands.map { ":" + $0 }.joined(separator: "  ")),
        ]))
        return sections
    }

    /// Whether `c` would offer to cancel the opened job: it is loaded, pending or running, and not
    /// already being cancelled.
    static func canCancelOpenedJob(_ state: DashboardState) -> Bool {
        guard let job = state.openedJob?.detail?.job else { return false }
        return cancelRefusal(status: job.status, cancelRequestedAt: job.cancelRequestedAt, id: job.id) == nil
    }

    /// `p` resumes a paused queue, so its hint says which it will do.
    static func pauseLabel(_ state: DashboardState) -> String {
        state.focusedQueue?.paused == true ? "resume" : "pause"
    }

    /// The footer's hints, most useful first; the footer drops them from the end when short.
    static func footerHints(_ state: DashboardState) -> [KeyHint] {
        var hints = [KeyHint("?", "help")]
        if state.openedJob != nil {
            let cancel = !state.readOnly && canCancelOpenedJob(state) ? [KeyHint("c", "cancel")] : []
            return hints + [KeyHint("j/k", "scroll")] + cancel + [KeyHint(":", "cmd"), KeyHint("Esc", "back")]
        }
        if !state.activeFilter.isEmpty { hints.append(KeyHint("Esc", "clear filter")) }
        if state.contexts.pickerCursor != nil {
            return hints + [KeyHint("Enter", "switch"), KeyHint("a", "all contexts"), KeyHint("Esc", "close")]
        }
        if state.contexts.allView && state.screen == .overview {
            return hints + [KeyHint("Enter", "open in its context"), KeyHint("s", state.contexts.sumByQueue ? "per context" : "sum by queue"),
                            KeyHint(":ctx", "contexts"), KeyHint("Esc", "close")]
        }
        switch state.screen {
        case .overview:
            hints += [KeyHint("Enter", "open")]
            if !state.readOnly { hints += [KeyHint("p", pauseLabel(state)), KeyHint("t", "run")] }
            hints += [KeyHint("/", "filter"), KeyHint(":", "cmd"), KeyHint("q", "quit")]
        case .queue:
            if !state.readOnly { hints += [KeyHint("p", pauseLabel(state)), KeyHint("+/-", "scale"), KeyHint("t", "run")] }
            hints += [KeyHint("J", "jobs"), KeyHint("Esc", "back")]
        case .dlq:
            switch state.dlqLevel {
            case .groups:
                hints += [KeyHint("Enter", "jobs")]
                if !state.readOnly {
                    hints += [KeyHint("r", "requeue"), KeyHint("a", "ack"), KeyHint("x", "resolve"),
                              KeyHint("z", "snooze"), KeyHint("o", "reopen"), KeyHint("d", "delete")]
                }
                hints += [KeyHint("/", "filter"), KeyHint("Esc", "back")]
            case .jobs:
                if !state.readOnly { hints += [KeyHint("Space", "mark"), KeyHint("r", "requeue"), KeyHint("d", "delete")] }
                hints += [KeyHint("Enter", "detail"), KeyHint("Esc", "back")]
            case .job:
                hints += [KeyHint("j/k", "scroll")]
                if !state.readOnly { hints += [KeyHint("r", "requeue"), KeyHint("d", "delete")] }
                hints += [KeyHint("Esc", "back")]
            }
        case .leads:
            // Only a pending or running migration can be cancelled: no hint for one that ended.
            if !state.readOnly, state.focusedMigration?.status.isActive == true { hints += [KeyHint("c", "cancel")] }
            // Every other screen names its way back; this one said only "? help / filter".
            hints += [KeyHint("/", "filter"), KeyHint("Esc", "back")]
        case .schedules:
            if !state.readOnly, state.focusedSchedule != nil {
                hints += [KeyHint("e", state.focusedSchedule?.enabled == false ? "enable" : "disable"), KeyHint("t", "run now")]
            }
            hints += [KeyHint("/", "filter"), KeyHint("Esc", "back")]
        case .workers:
            hints += [KeyHint("Enter", state.busyWorker == nil ? "jobs" : "open")]
            if !state.readOnly {
                hints += [KeyHint("p", state.focusedWorker?.status == "quiet" ? "resume" : "quiet"), KeyHint("d", "drain")]
                if state.focusedBusyJob != nil { hints += [KeyHint("c", "cancel job")] }
            }
            hints += [KeyHint("/", "filter"), KeyHint("Esc", "back")]
        case .audit:
            if !state.readOnly, state.focusedAudit?.action == "dlq.requeue" { hints += [KeyHint("u", "undo requeue")] }
            hints += [KeyHint("/", "filter"), KeyHint("Esc", "back")]
        case .log:
            hints += [KeyHint("Enter", "job"), KeyHint("/", "filter"), KeyHint("Esc", "back")]
        case .jobs:
            if state.jobs.editing != nil { return [KeyHint("Enter", "search"), KeyHint("Tab", "complete"), KeyHint("Esc", "cancel")] }
            if state.jobs.priorityPrompt != nil { return [KeyHint("Enter", "confirm"), KeyHint("Esc", "cancel")] }
            hints += [KeyHint("/", "search"), KeyHint("< >", "state"), KeyHint("Enter", "open")]
            if !state.readOnly {
                hints += [KeyHint("Space", "mark"), KeyHint("c", "cancel"), KeyHint("r", "run/requeue"), KeyHint("p", "priority"),
                          KeyHint("d", "delete")]
            }
            hints += [KeyHint("s", "sort"), KeyHint("n", "more")]
        case .timeline:
            hints += [KeyHint("Enter", "open")]
            if state.focusedTimelineEntry?.jobID != nil { hints += [KeyHint("y", "copy id")] }
            hints += [KeyHint("/", "filter"), KeyHint("Esc", "back")]
        }
        return hints
    }
}

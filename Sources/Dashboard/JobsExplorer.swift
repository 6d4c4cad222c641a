import Foundation
import JobFilter
import QueueStore

/// The Jobs screen (tab 9, `:jobs`, `J` on a queue): every job by state, found with the filter
/// language, a page at a time, with bulk actions on marked rows or on everything that matches.
public struct JobsExplorer: Sendable, Equatable {
    /// The state tab; nil: every state.
    public var stateTab: JobState? = .pending
    /// The filter in force (parsed from what the operator typed after `/`).
    public var filter = JobFilter()
    /// The line being typed after `/`; nil when not editing.
    public var editing: String?
    /// Why the line being typed does not parse, pointing at the term (shown under the line).
    public var filterError: JobFilterError?
    /// `p`: the new priority being typed for the marked jobs (or everything that matches); nil
    /// when not asking.
    public var priorityPrompt: String?
    /// Why what was typed is not a priority (shown under the line; nothing was changed).
    public var priorityError: String?
    public var sort: JobSort = .newestFirst
    /// Where each page shown so far started (`after` of the request), so `N` goes back.
    public var pageStarts: [UUID?] = [nil]
    /// The last answer for the request on screen; nil while the first one loads.
    public var page: JobSearchPage?
    public var count: JobCount?
    /// The request `page` answers: an answer for any other (an older filter) is dropped.
    public var loadedRequest: JobSearchRequest?

    public init() {}

    /// The states in tab order, then "all".
    public static let tabs: [JobState?] = JobState.allCases.map { Optional($0) } + [nil]

    /// Rows shown per page: a screenful on most terminals, and a cheap query on any table.
    public static let pageSize = 50

    /// The filter the request runs: the operator's terms plus the state tab's.
    public var effectiveFilter: JobFilter {
        var terms = filter.terms
        if let stateTab { terms.append(FilterTerm(.state(stateTab))) }
        return JobFilter(terms)
    }

    public var request: JobSearchRequest {
        JobSearchRequest(filter: effectiveFilter, sort: sort, after: pageStarts.last ?? nil, limit: Self.pageSize)
    }

    /// How long the last page and count took to load, in seconds.
    public var lastLoadSeconds: Double = 0

    /// A search that took longer than this is not repeated by the refresh interval.
    public static let autoRefreshLimit = 0.25

    /// Whether the refresh interval (and NOTIFY) reload the page. A search with a payload, error
    /// or id-part term reads up to a window of rows each time, and a filter no index serves (a
    /// rare key among millions of rows) may walk far: such a search runs once, when asked (a new
    /// filter, tab, sort or page, `^R`, after an action), so a screen left open on it does not
    /// read 200,000 payloads, or the primary key, every two seconds.
    public var refreshesByItself: Bool {
        page == nil || (effectiveFilter.terms.allSatisfy(JobFilterSQL.isIndexed) && lastLoadSeconds < Self.autoRefreshLimit)
    }

    /// The rows on screen.
    public var rows: [JobSummary] { page?.jobs ?? [] }

    mutating func resetPaging() {
        pageStarts = [nil]
        page = nil
        count = nil
        loadedRequest = nil
    }
}

extension DashboardState {
    /// The job under the cursor on the Jobs screen.
    public var focusedSearchJob: JobSummary? {
        guard screen == .jobs else { return nil }
        let rows = jobs.rows
        return rows.isEmpty ? nil : rows[cursorRow]
    }
}

/// Opens the Jobs screen, optionally with a filter already typed (`J` on a queue, `:jobs TEXT`).
func openJobsScreen(_ state: inout DashboardState, filterText: String?) -> [Effect] {
    if let filterText {
        do {
            state.jobs.filter = try JobFilter.parse(filterText)
            state.jobs.filterError = nil
        } catch {
            state.flash = Flash("bad filter: \(error.description)", kind: .error, at: state.now)
            return []
        }
        state.jobs.resetPaging()
        state.cursor[.jobs] = 0
        state.marked.removeAll()
    }
    return switchScreen(&state, to: .jobs)
}

/// Keys of the Jobs screen that mean something else elsewhere; nil lets the common handling
/// (cursor, back, screens, help, actions) have the key.
func handleJobsKey(_ state: inout DashboardState, _ key: Key) -> [Effect]? {
    if state.jobs.editing != nil { return handleJobsFilterKey(&state, key) }
    if state.jobs.priorityPrompt != nil { return handlePriorityKey(&state, key) }
    switch key {
    case .character("p"):
        // Change priority: asks for the number first, then confirms like the other bulk actions.
        if state.readOnly { return handleActionKey(&state, key) }  // says why not
        if state.bulk != nil || jobsBulkAction(.priority, in: state) == nil { return refusePriority(&state) }
        state.jobs.priorityPrompt = ""
        state.jobs.priorityError = nil
        return []
    case .character("/"):
        state.jobs.editing = state.jobs.filter.description
        state.jobs.filterError = nil
        return []
    case .character("<"), .character(">"):
        let tabs = JobsExplorer.tabs
        let i = tabs.firstIndex(of: state.jobs.stateTab) ?? 0
        state.jobs.stateTab = tabs[(i + (key == .character(">") ? 1 : -1) + tabs.count) % tabs.count]
        return reloadJobsFromTop(&state)
    case .character("s"):
        state.jobs.sort = state.jobs.sort == .newestFirst ? .oldestFirst : .newestFirst
        return reloadJobsFromTop(&state)
    case .character("n"):
        guard let next = state.jobs.page?.next else {
            state.flash = Flash("no more jobs match", kind: .info, at: state.now)
            return []
        }
        state.jobs.pageStarts.append(next)
        state.jobs.page = nil
        state.cursor[.jobs] = 0
        return [.loadJobs(state.jobs.request)]
    case .character("N"):
        guard state.jobs.pageStarts.count > 1 else { return [] }
        state.jobs.pageStarts.removeLast()
        state.jobs.page = nil
        state.cursor[.jobs] = 0
        return [.loadJobs(state.jobs.request)]
    case .character(" "):
        guard let job = state.focusedSearchJob else { return [] }
        if state.marked.contains(job.id) { state.marked.remove(job.id) } else { state.marked.insert(job.id) }
        state.cursor[.jobs] = min(state.cursorRow + 1, max(0, state.rowCount - 1))
        return []
    case .enter, .right, .character("l"):
        guard let job = state.focusedSearchJob else { return [] }
        return openJob(&state, id: job.id)
    case .escape, .character("q"), .left, .character("h"):
        // Back clears the filter first, then leaves the screen.
        guard !state.jobs.filter.isEmpty else { return nil }
        state.jobs.filter = JobFilter()
        return reloadJobsFromTop(&state)
    // On a running job (none marked), `c`/`x` stop it: the cancel-running-job action the job view
    // and the busy view use (asks first; its worker stops the handler). Elsewhere they are the
    // bulk cancel of pending, scheduled and retrying jobs.
    case .character("x"), .character("c"):
        if state.marked.isEmpty, let job = state.focusedSearchJob, job.state == .running {
            return request(&state, .cancelRunningJob(job.id, label: jobLabel(type: job.jobType, id: job.id, queue: job.queue)))
        }
        return handleActionKey(&state, .character("c"))
    default:
        return nil
    }
}

/// Why `p` did nothing: a bulk action running, or no job on screen.
private func refusePriority(_ state: inout DashboardState) -> [Effect] {
    state.flash = state.bulk != nil
        ? Flash("a bulk action is still running: wait for it, or Esc to stop it", kind: .error, at: state.now)
        : Flash("no jobs to change: none match here", kind: .info, at: state.now)
    return []
}

/// The `p` line: digits and a leading minus; Enter checks the number (a bad one stays on the
/// line with the reason, and nothing is changed) and opens the confirmation; Esc drops it.
private func handlePriorityKey(_ state: inout DashboardState, _ key: Key) -> [Effect] {
    var text = state.jobs.priorityPrompt ?? ""
    switch key {
    case .escape:
        state.jobs.priorityPrompt = nil
        state.jobs.priorityError = nil
        return []
    case .enter:
        switch JobPriorityInput.parse(text) {
        case .failure(let reason):
            state.jobs.priorityError = reason.description
            return []
        case .success(let priority):
            state.jobs.priorityPrompt = nil
            state.jobs.priorityError = nil
            guard let action = jobsBulkAction(.priority, priority: priority, in: state) else { return [] }
            return request(&state, action)
        }
    case .backspace:
        if !text.isEmpty { text.removeLast() }
    case .character(let c) where text.count < 12:
        text.append(c)
    default:
        break
    }
    state.jobs.priorityPrompt = text
    state.jobs.priorityError = nil
    return []
}

/// What the `p` line accepts: a whole number from -1000000 to 1000000 (the range
/// `jobs_bulk_apply` and `queuetop jobs priority --set` take).
public enum JobPriorityInput {
    public static let range = -1_000_000...1_000_000

    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) -> Result<Int, Refusal> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return .failure(Refusal(description: "type a priority: a whole number, higher runs first")) }
        guard let value = Int(trimmed), trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else {
            return .failure(Refusal(description: "\"\(trimmed)\" is not a whole number"))
        }
        guard range.contains(value) else {
            return .failure(Refusal(description: "priority must be between -1000000 and 1000000, got \(value)"))
        }
        return .success(value)
    }
}

private func reloadJobsFromTop(_ state: inout DashboardState) -> [Effect] {
    state.jobs.resetPaging()
    state.cursor[.jobs] = 0
    state.marked.removeAll()
    return [.loadJobs(state.jobs.request)]
}

/// The `/` line of the Jobs screen: Enter parses (a bad filter stays on the line with the
/// message pointing at the term), Esc leaves the filter as it was, Tab completes.
private func handleJobsFilterKey(_ state: inout DashboardState, _ key: Key) -> [Effect] {
    var text = state.jobs.editing ?? ""
    switch key {
    case .escape:
        state.jobs.editing = nil
        state.jobs.filterError = nil
        return []
    case .enter:
        do {
            state.jobs.filter = try JobFilter.parse(text)
            state.jobs.editing = nil
            state.jobs.filterError = nil
            return reloadJobsFromTop(&state)
        } catch {
            state.jobs.filterError = error
            return []
        }
    case .backspace:
        if !text.isEmpty { text.removeLast() }
    case .tab:
        text = JobFilterCompletion.complete(text, queues: (state.snapshot?.queues ?? []).map(\.name))
    case .character(let c) where text.count < 500:
        text.append(c)
    default:
        break
    }
    state.jobs.editing = text
    state.jobs.filterError = nil
    return []
}

/// Tab completion on the filter line: the last word's field name, or after `queue:` a queue
/// name. One match completes it; several complete their common start.
public enum JobFilterCompletion {
    public static func complete(_ text: String, queues: [String]) -> String {
        let start = text.lastIndex(where: \.isWhitespace).map(text.index(after:)) ?? text.startIndex
        var word = String(text[start...])
        let negated = word.hasPrefix("-")
        if negated { word.removeFirst() }
        let candidates: [String]
        if let colon = word.firstIndex(of: ":") {
            guard word[..<colon].lowercased() == "queue" else { return text }
            let typed = String(word[word.index(after: colon)...])
            candidates = queues.filter { $0.hasPrefix(typed) && !$0.contains(where: \.isWhitespace) && !$0.contains("\"") }
                .map { "queue:" + $0 }
        } else {
            candidates = jobFilterFields.filter { $0.hasPrefix(word.lowercased()) }
                .map { $0 == "age" ? "age>" : $0 == "payload" ? "payload." : $0 + ":" }
        }
        guard let common = commonPrefix(candidates), common.count > word.count else { return text }
        return String(text[..<start]) + (negated ? "-" : "") + common
    }

    private static func commonPrefix(_ words: [String]) -> String? {
        guard var prefix = words.first else { return nil }
        for w in words.dropFirst() {
            while !w.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }
}

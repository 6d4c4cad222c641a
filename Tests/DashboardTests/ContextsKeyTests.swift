import Dashboard
import Foundation
import QueueStore
import Testing

/// `:ctx`, switching and the all view as pure key sequences through the reducer.
@Suite struct ContextsKeyTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func snapshot(_ queues: [(String, Int64, Int64)], alerts: [(queue: String, kind: String, message: String)] = []) -> HealthSnapshot {
        let json = """
            {"generated_at": "2027-01-15T08:00:00Z", "queues": [\(queues.map { name, pending, dead in
                """
                {"name": "\(name)", "paused": false, "settings": {"concurrency_limit": null, "max_attempts": 5, "rate_limit_per_s": null,
                 "visibility_timeout_s": 300, "backoff_base_s": 2, "backoff_cap_s": 600, "backoff_schedule_s": null,
                 "dlq_alert_threshold": 100, "oldest_pending_alert_s": 600, "error_rate_alert": 0.5},
                 "counts": {"pending": \(pending), "processing": 1, "completed": 0, "failed": 0, "dead_letter": \(dead), "cancelled": 0},
                 "oldest_pending_seconds": \(pending * 10), "last_hour": {"completed": 0, "failed": 0, "dead_lettered": 0}, "error_rate_5m": null,
                 "circuit": "closed", "throughput_per_hour": [], "throughput_per_minute": [],
                 "latency_ms": {"p50": null, "p95": null, "p99": null, "avg": null, "max": null, "samples": 0, "relative_error": 0.0488, "estimated": []},
                 "alerts": []}
                """ }.joined(separator: ","))],
             "alerts": [\(alerts.map { "{\"queue\": \"\($0.queue)\", \"kind\": \"\($0.kind)\", \"message\": \"\($0.message)\"}" }.joined(separator: ","))],
             "error_types": [], "workers": [], "worker_counts": {"live": 0, "lost": 0}, "circuit_breakers": [], "lead_migrations": []}
            """
        return try! HealthSnapshot.decode(json: json)
    }

    static func state() -> DashboardState {
        var state = DashboardState(now: now)
        state.contexts.entries = ["a", "b", "c"].map { ContextEntry(name: $0) }
        state.contexts.current = "a"
        _ = reduce(&state, .snapshotLoaded(snapshot([("emails", 1, 0)]), at: now))
        return state
    }

    static func type(_ state: inout DashboardState, _ text: String) -> [Effect] {
        var effects: [Effect] = []
        for c in text { effects += reduce(&state, .key(.character(c))) }
        return effects + reduce(&state, .key(.enter))
    }

    @Test func ctxOpensTheListAndEnterSwitchesToTheRowUnderTheCursor() {
        var state = Self.state()
        _ = Self.type(&state, ":ctx")
        #expect(state.contexts.pickerCursor == 0, "the cursor starts on the current context")
        _ = reduce(&state, .key(.down))
        #expect(reduce(&state, .key(.enter)) == [.switchContext("b", openQueue: nil)])
        #expect(state.contexts.pickerCursor == nil && state.contexts.switching == "b")
        #expect(state.contexts.current == "a", "still on a until the switch is done")
    }

    @Test func aDoneSwitchStartsFreshOnTheNewContextAndAFailedOneStays() {
        var state = Self.state()
        state.screen = .dlq
        #expect(Self.type(&state, ":ctx nope").isEmpty)
        #expect(state.flash?.text.contains("no context 'nope'") == true)
        #expect(Self.type(&state, ":ctx c") == [.switchContext("c", openQueue: nil)])
        _ = reduce(&state, .contextSwitchFailed("c", reason: "connection refused", at: Self.now))
        #expect(state.contexts.current == "a" && state.flash?.text.contains("cannot switch to c") == true)
        _ = reduce(&state, .contextSwitched(ContextSwitch(name: "c", snapshot: Self.snapshot([("sms", 2, 0)]), standby: nil,
                                                          readOnly: true, readOnlyReason: "context c has only a replica: read-only", openQueue: nil)))
        #expect(state.contexts.current == "c" && state.readOnly && state.snapshot?.queues.map(\.name) == ["sms"])
        #expect(state.dlqGroups.isEmpty && state.contexts.entries.count == 3, "nothing of a is kept but the contexts")
    }

    /// A bulk action running on the old context is stopped as its runner is let go: the new
    /// context starts with none running, and the flash says what happened to it.
    @Test func aSwitchDuringABulkActionSaysItWasStopped() {
        var state = Self.state()
        state.bulk = BulkRun(progress: JobBulkProgress(action: .cancel, done: 4_000, total: 50_000, elapsed: 2), startedAt: Self.now)
        _ = reduce(&state, .contextSwitched(ContextSwitch(name: "c", snapshot: Self.snapshot([("sms", 2, 0)]), standby: nil,
                                                          readOnly: false, readOnlyReason: nil, openQueue: nil)))
        #expect(state.bulk == nil)
        #expect(state.flash?.text.hasSuffix("the running cancel was stopped after its batch in flight") == true, "\(state.flash?.text ?? "")")
    }

    @Test func theAllViewSumsFreshContextsAndEnterCarriesTheContext() {
        var state = Self.state()
        _ = reduce(&state, .contextRefreshed("a", Self.snapshot([("emails", 3, 2)]).summary, nil, at: Self.now))
        _ = reduce(&state, .contextRefreshed("b", Self.snapshot([("emails", 5, 1), ("sms", 1, 0)],
                                                                alerts: [("emails", "circuit_open", "circuit open")]).summary, nil, at: Self.now))
        _ = reduce(&state, .contextUnreachable("c", reason: "down", at: Self.now))
        _ = Self.type(&state, ":all")
        #expect(state.contexts.allView && state.screen == .overview)
        #expect(state.allViewRows.map { "\($0.context ?? "-")/\($0.queue)" } == ["a/emails", "b/emails", "b/sms"])
        #expect(HealthSum.totals(state.freshContextSummaries).deadLetter == 3)
        #expect(HealthSum.alerts(state.freshContextSummaries).map(\.context) == ["b"])
        _ = reduce(&state, .key(.character("s")))
        #expect(state.allViewRows.map { "\($0.queue)=\($0.pending)@\($0.contexts.joined(separator: "+"))" } == ["emails=8@a+b", "sms=1@b"])
        #expect(reduce(&state, .key(.enter)).isEmpty, "a summed row has no one context to go to")
        _ = reduce(&state, .key(.character("s")))
        _ = reduce(&state, .key(.down))
        #expect(reduce(&state, .key(.character("p"))).isEmpty && state.confirmation == nil,
                "no action from the all view: it would hit the current context's queue, not the row's")
        #expect(reduce(&state, .key(.enter)) == [.switchContext("b", openQueue: "emails")], "the drill-down carries the context")
        // A context that stops answering for three intervals is stale and no longer summed.
        _ = reduce(&state, .tick(Self.now.addingTimeInterval(30)))
        #expect(state.freshContextSummaries.isEmpty)
        #expect(state.contexts.entries[0].stateWord(now: state.now, interval: state.refreshInterval) == "stale 30s")
    }

    @Test func withoutAContextsFileCtxSaysWhereTheFileGoes() {
        var state = DashboardState(now: Self.now)
        _ = Self.type(&state, ":ctx")
        #expect(state.contexts.pickerCursor == nil && state.flash?.text.contains("no contexts file") == true)
        _ = Self.type(&state, ":all")
        #expect(!state.contexts.allView)
    }

    @Test func theConfirmationNamesTheContext() {
        var state = Self.state()
        _ = Self.type(&state, ":pause emails")
        let confirmation = Confirmation(action: .requeueGroup(DLQGroupKey(queue: "emails", fingerprint: "5d41402abc4b", errorType: "smtp_error"), resetAttempts: false, asOf: nil),
                                        count: 120, context: "eu-1")
        #expect(confirmation.prompt == "Requeue 120 jobs from emails / smtp_error 5d41402abc4b on eu-1?")
        #expect(Confirmation(action: .pause(queue: "q"), count: 1).prompt == "Pause q?", "no context, no suffix")
    }
}

@testable import DashboardRuntime
import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The dashboard's database thread against a real Postgres: what the operator sees (messages)
/// and what the database ends up with.
@Suite struct EffectRunnerTests {
    @Test func refreshAndDLQLoadsAnswerWithTheDatabaseContents() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try seedDeadLetters(conn, 3, type: "smtp_error")
            try seedDeadLetters(conn, 2, type: "timeout")
            let harness = RunnerHarness(db.config)
            let snapshot = harness.post([.refresh]) { if case .snapshotLoaded(let s, _) = $0 { s } else { nil } }
            #expect(snapshot?.queue(named: "emails")?.counts.deadLetter == 5)
            let groups = harness.post([.loadDLQGroups]) { if case .dlqGroupsLoaded(let g) = $0 { g } else { nil } }
            #expect(groups?.map { "\($0.errorType ?? "-"):\($0.count)" } == ["smtp_error:3", "timeout:2"])
            let timeoutGroup = groups?.first(where: { $0.errorType == "timeout" })
            guard let timeoutGroup else { Issue.record("no timeout group"); return }
            let key = DLQGroupKey(timeoutGroup)
            let jobs = harness.post([.loadDLQJobs(key)]) { if case .dlqJobsLoaded(key, let j) = $0 { j } else { nil } }
            #expect(jobs?.count == 2 && jobs?.allSatisfy { $0.errorType == "timeout" } == true)
        }
    }

    @Test func requeueGroupCountsThenRequeuesExactlyThoseJobsWithOneAuditRow() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let smtp = try seedDeadLetters(conn, 3, type: "smtp_error")
            let other = try seedDeadLetters(conn, 2, type: "timeout")
            let harness = RunnerHarness(db.config)
            let smtpGroup = try DLQStore(connection: conn).groups().first(where: { $0.errorType == "smtp_error" })
            guard let smtpGroup else { Issue.record("no smtp_error group"); return }
            let key = DLQGroupKey(smtpGroup)
            let asked = OperatorAction.requeueGroup(key, resetAttempts: false, asOf: nil)
            let preview = harness.post([.preview(asked)]) {
                if case .previewCounted(let action, let count, let asOf, let sample) = $0 { (action, count, asOf, sample) } else { nil }
            }
            #expect(preview?.0 == asked && preview?.1 == 3)
            // The dialog's sample: jobs of exactly this group.
            #expect(preview.map { Set($0.3.map(\.id)).isSubset(of: Set(smtp)) && $0.3.count == 3 } == true)
            // What the reducer does on `y`: perform the action pinned to the counted moment.
            var state = DashboardState(now: Date())
            state.confirmation = Confirmation(action: asked)
            _ = reduce(&state, .previewCounted(asked, count: preview!.1, asOf: preview!.2, sample: preview!.3))
            #expect(state.confirmation?.prompt == "Requeue 3 jobs from emails / smtp_error \(key.fingerprint)?")
            #expect(state.confirmation?.sample.count == 3)
            let effects = reduce(&state, .key(.character("y")))
            let text = harness.post(effects) { if case .actionFinished(let t, _) = $0 { t } else { nil } }
            #expect(text?.hasPrefix("requeued 3 jobs from emails / smtp_error \(key.fingerprint); undo: audit #") == true)
            #expect(try jobStatuses(conn, smtp) == ["pending"])
            #expect(try jobStatuses(conn, other) == ["dead_letter"])
            let audit = try AuditStore(connection: conn).list(action: "dlq.requeue")
            #expect(audit.count == 1)
            #expect(audit.first?.clientLabel == "queuetop tester@testhost" && audit.first?.affected == 3)
        }
    }

    /// Delete cannot be undone: its dialog shows the same sample of the very jobs as requeue's,
    /// for a group and for marked jobs.
    @Test func deleteDialogsShowASampleOfTheJobsTheyDelete() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let smtp = try seedDeadLetters(conn, 7, type: "smtp_error")
            _ = try seedDeadLetters(conn, 2, type: "timeout")
            let harness = RunnerHarness(db.config)
            let smtpGroup = try DLQStore(connection: conn).groups().first(where: { $0.errorType == "smtp_error" })
            guard let smtpGroup else { Issue.record("no smtp_error group"); return }
            let asked = OperatorAction.deleteGroup(DLQGroupKey(smtpGroup), asOf: nil)
            let preview = harness.post([.preview(asked)]) {
                if case .previewCounted(_, let count, _, let sample) = $0 { (count, sample) } else { nil }
            }
            #expect(preview?.0 == 7)
            #expect(preview.map { $0.1.count == 5 && Set($0.1.map(\.id)).isSubset(of: Set(smtp)) } == true)
            let marked = Array(smtp.prefix(2))
            let byID = harness.post([.preview(.deleteJobs(marked))]) {
                if case .previewCounted(_, let count, _, let sample) = $0 { (count, sample) } else { nil }
            }
            #expect(byID?.0 == 2 && Set(byID?.1.map(\.id) ?? []) == Set(marked))
            #expect(try jobStatuses(conn, smtp) == ["dead_letter"], "a preview changes nothing")
        }
    }

    @Test func jobsWithoutAnErrorTypeAreAGroupOfTheirOwn() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let untyped = try seedDeadLetters(conn, 2, type: nil)
            let typed = try seedDeadLetters(conn, 4, type: "smtp_error")
            let harness = RunnerHarness(db.config)
            // fail_job recorded "unknown" before the type was removed: the fingerprint says so.
            let found = try DLQStore(connection: conn).groups().first(where: { $0.count == 2 })
            guard let group = found else { Issue.record("no group of 2"); return }
            let key = DLQGroupKey(group)
            let count = harness.post([.preview(.deleteGroup(key, asOf: nil))]) {
                if case .previewCounted(_, let n, _, _) = $0 { n } else { nil }
            }
            #expect(count == 2)
            let text = harness.post([.perform(.requeueGroup(key, resetAttempts: true, asOf: nil))]) {
                if case .actionFinished(let t, _) = $0 { t } else { nil }
            }
            #expect(text?.hasPrefix("requeued 2 jobs from \(key.label) (attempts reset)") == true)
            #expect(try jobStatuses(conn, untyped) == ["pending"])
            #expect(try jobStatuses(conn, typed) == ["dead_letter"])
        }
    }

    @Test func jobDetailHasPayloadErrorAndAttempts() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let id = try JobStore(connection: conn).enqueue(NewJob(queue: "emails", type: "send", payload: JSONText(#"{"to":"a@b.c"}"#))).id
            try conn.query("SELECT fail_job(\(id), 'bounced', 'smtp_error', '{\"code\":550}'::jsonb, false)")
            let harness = RunnerHarness(db.config)
            let detail = harness.post([.loadJobDetail(id)], until: jobLoaded(id))
            #expect(detail??.job.status == "dead_letter")
            #expect(detail??.job.payloadJSON.contains(#""to": "a@b.c""#) == true)
            #expect(detail??.job.errorDetailsJSON?.contains("550") == true)
            #expect(detail??.job.lastErrorAt != nil)
            #expect(detail??.attempts.map(\.message) == ["bounced"])
            try conn.query("DELETE FROM job_queue WHERE id = \(id)")
            // Gone is an answer (nil), which the reducer words for the view that asked.
            let gone = harness.post([.loadJobDetail(id)], until: jobLoaded(id))
            #expect(gone == .some(nil))
        }
    }

    /// `:job ID` as the on-call engineer uses it: a job found in a log, loaded again with each
    /// refresh while it goes pending → processing → completed, its stored result on screen.
    @Test func anyJobLoadsWithEachStatusItPassesThroughAndItsResult() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = JobStore(connection: conn)
            let expires = Date().addingTimeInterval(3_600)
            let id = try store.enqueue(NewJob(queue: "store_sync", type: "sync_store", payload: JSONText(#"{"store": 7}"#),
                                              dedupKey: "store:7", uniqueForSeconds: 600, expiresAt: expires, tenant: "shop-7")).id
            let harness = RunnerHarness(db.config)
            var state = DashboardState(now: Date())
            func load() -> JobDetail? {
                state.lastRefreshAt = .distantPast  // a refresh is due
                let effects = reduce(&state, .tick(Date()))
                #expect(effects.contains(.loadJobDetail(id)), "a refresh reloads the opened job: \(effects)")
                let answer = harness.post(effects, until: jobLoaded(id))
                if let answer { _ = reduce(&state, .jobDetailLoaded(id, answer)) }
                #expect(answer != nil, "the job answered")
                return state.openedJob?.detail
            }
            _ = command(&state, "job \(id.uuidString.lowercased())")
            #expect(load()?.job.status == "pending")
            #expect(state.openedJob?.detail?.job.tenant == "shop-7" && state.openedJob?.detail?.job.dedupKey == "store:7")
            #expect(abs((state.openedJob?.detail?.job.expiresAt ?? .distantPast).timeIntervalSince(expires)) < 0.001)

            _ = try store.claim(worker: "w1", queues: ["store_sync"], max: 1)
            let running = load()
            #expect(running?.job.status == "processing" && running?.job.lockedBy == "w1" && running?.job.startedAt != nil)

            try store.complete(worker: "w1", ids: [JobID(id)], processingMs: [1_250], results: [JSONText(#"{"synced": 1284, "cursor": "c_9f"}"#)])
            let done = load()
            #expect(done?.job.status == "completed" && done?.job.processingMs == 1_250 && done?.job.completedAt != nil)
            #expect(done?.job.resultJSON?.contains(#""synced": 1284"#) == true)
            #expect(done?.attempts.isEmpty == true)
            // The same result a unique-for-a-period enqueue answers with (issue 10).
            let hit = try store.enqueue(NewJob(queue: "store_sync", type: "sync_store", dedupKey: "store:7", uniqueForSeconds: 600))
            #expect(hit.isCacheHit && hit.id == id)

            let unknown = UUID()
            _ = command(&state, "job \(unknown.uuidString)")
            let answer = harness.post([.loadJobDetail(unknown)], until: jobLoaded(unknown))
            _ = reduce(&state, .jobDetailLoaded(unknown, answer ?? nil))
            #expect(state.openedJob == nil)
            #expect(state.flash?.text == "no job \(unknown.uuidString.lowercased()) (never enqueued, or removed by its queue's retention)")
        }
    }

    @Test func queueActionsChangeSettingsAndRefusalsSayWhyAndChangeNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try seedDeadLetters(conn, 1, type: "x")
            let harness = RunnerHarness(db.config)
            let finished: (Message) -> String? = { if case .actionFinished(let t, _) = $0 { t } else { nil } }
            #expect(harness.post([.perform(.pause(queue: "emails"))], until: finished) == "paused emails")
            #expect(harness.post([.perform(.setConcurrency(queue: "emails", limit: 3))], until: finished) == "emails concurrency set to 3")
            #expect(harness.post([.perform(.trigger(queue: "emails"))], until: finished) == "ran emails now: 0 jobs due")
            let config = try QueueConfigStore(connection: conn).get("emails")
            #expect(config.paused && config.concurrencyLimit == 3)
            let failed = harness.post([.perform(.pause(queue: "nope"))]) { if case .actionFailed(let t, _) = $0 { t } else { nil } }
            #expect(failed?.hasPrefix("pause failed: unknown queue") == true)
            let actions = try AuditStore(connection: conn).list().map(\.action)
            #expect(Set(actions).isSuperset(of: ["run_queue_now"]) && actions.count == 3)
        }
    }

    @Test func readOnlySessionRefusesActionsOnTheServer() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let ids = try seedDeadLetters(conn, 2, type: "x")
            let harness = RunnerHarness(db.config, readOnly: true)
            let snapshot = harness.post([.refresh]) { if case .snapshotLoaded(let s, _) = $0 { s } else { nil } }
            #expect(snapshot != nil)
            let failed = harness.post([.perform(.requeueJobs(ids, resetAttempts: true))]) {
                if case .actionFailed(let t, _) = $0 { t } else { nil }
            }
            #expect(failed?.contains("read-only") == true)
            #expect(try jobStatuses(conn, ids) == ["dead_letter"])
            #expect(try AuditStore(connection: conn).list().isEmpty)
        }
    }

    @Test func aRoleWithoutWritePrivilegeIsDetectedAsReadOnly() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            #expect(try AuditStore(connection: conn).mayAct())
            let role = "qt_viewer_\(UInt32.random(in: 0...UInt32.max))"
            try conn.executeScript("CREATE ROLE \(role) LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(role)")
            defer { _ = try? conn.executeScript("DROP OWNED BY \(role); DROP ROLE \(role)") }
            let viewer = try Connection.connect(db.config.overriding("user", role))
            defer { viewer.close() }
            #expect(try AuditStore(connection: viewer).mayAct() == false)
        }
    }

    @Test func aLostConnectionShowsDisconnectedWithoutThePasswordThenRecovers() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // Nothing listens on port 1: every load fails as a connection problem.
            let unreachable = try ConnectionConfig("postgresql://qt:s3cretpw@127.0.0.1:1/nowhere?connect_timeout=2")
            let dead = RunnerHarness(unreachable)
            let down = dead.post([.refresh]) { if case .disconnected(let r, let retry, _) = $0 { (r, retry) } else { nil } }
            #expect(down != nil)
            #expect(down?.0.contains("s3cretpw") == false && down?.0.contains("127.0.0.1") == true)
            #expect((0.5...1.0).contains(down?.1 ?? -1))

            let harness = RunnerHarness(db.config)
            #expect(harness.post([.refresh]) { if case .snapshotLoaded = $0 { true } else { nil } } == true)
            try conn.query("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                """)
            // The first load after the kill may find the link dead; a retry reconnects.
            var recovered = false
            for _ in 0..<3 where !recovered {
                let outcome = harness.post([.refresh]) { message -> Bool? in
                    switch message {
                    case .snapshotLoaded: return true
                    case .disconnected: return false
                    default: return nil
                    }
                }
                recovered = outcome == true
            }
            #expect(recovered)
        }
    }
}

/// Matches the answer for job `id`: `.some(nil)` is "no such job", `nil` is "no answer yet".
func jobLoaded(_ id: UUID) -> (Message) -> JobDetail?? {
    { message in
        guard case .jobDetailLoaded(id, let detail) = message else { return nil }
        return .some(detail)
    }
}

/// Types `:text` Enter, as the operator does.
@discardableResult
func command(_ state: inout DashboardState, _ text: String) -> [Effect] {
    ([Key.character(":")] + text.map { Key.character($0) } + [.enter]).flatMap { reduce(&state, .key($0)) }
}

@Suite struct EffectMailboxTests {
    @Test func identicalLoadsWaitOnceButActionsAreNeverMerged() {
        let mailbox = EffectMailbox()
        let pause = Effect.perform(.pause(queue: "emails"))
        mailbox.post([.refresh, .loadAudit, .refresh, pause, .refresh, pause, .loadAudit])
        var taken: [Effect] = []
        mailbox.close()  // after close the waiting actions still come out; loads do not
        while let e = mailbox.take() { taken.append(e) }
        #expect(taken == [pause, pause])

        let open = EffectMailbox()
        open.post([.refresh, .loadAudit, .refresh, pause, .refresh, pause, .loadAudit])
        var order: [Effect] = []
        for _ in 0..<4 { order.append(open.take()!) }
        #expect(order == [.refresh, .loadAudit, pause, pause])
    }
}

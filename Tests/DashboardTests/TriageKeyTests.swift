import Dashboard
import Foundation
import Postgres
@testable import QueueStore
import Testing

/// The triage keys (docs/TRIAGE.md): a z x o on a DLQ group, u on a requeue's audit row, and the
/// requeue dialog's sample; no database, no terminal.
@Suite struct TriageKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    func press(_ s: inout DashboardState, _ keys: Key...) -> [Effect] { keys.flatMap { reduce(&s, .key($0)) } }

    var group: DLQGroup {
        DLQGroup(queue: "orders", errorType: "timeout", count: 4, firstErrorAt: t0, lastErrorAt: t0,
                 sampleMessage: "timeout after 30012 ms for order 81723", fingerprint: "3fa9c2d1e0b4",
                 pattern: "timeout after <n> ms for order <n>", lifecycle: ErrorGroupLifecycle(isNew: true))
    }

    func onGroups(readOnly: Bool = false) -> DashboardState {
        var s = DashboardState(now: t0)
        s.screen = .dlq
        s.dlqGroups = [group]
        s.readOnly = readOnly
        return s
    }

    @Test func lifecycleKeysActOnTheFocusedGroupAtOnce() {
        let key = DLQGroupKey(group)
        for (c, step) in [("a", GroupTriage.acknowledge), ("z", .snooze(seconds: 3_600)), ("x", .resolve), ("o", .reopen)] {
            var s = onGroups()
            #expect(press(&s, .character(Character(c))) == [.perform(.triageGroup(step, key))], "\(c)")
            #expect(s.confirmation == nil)
        }
        // Read-only: refused, nothing performed.
        var ro = onGroups(readOnly: true)
        #expect(press(&ro, .character("x")) == [])
        #expect(ro.flash?.kind == .error)
        // On the jobs of a group the lifecycle keys do nothing.
        var jobs = onGroups()
        _ = press(&jobs, .enter)
        #expect(press(&jobs, .character("x")) == [])
    }

    @Test func uOnARequeuesAuditRowAsksWithTheCountOfJobsThatWouldGoBack() {
        var s = DashboardState(now: t0)
        s.screen = .audit
        s.audit = [AuditEntry(id: 41, at: t0, databaseRole: "ops", actor: "ops", action: "dlq.requeue",
                              filter: JSONText("{}"), affected: 4),
                   AuditEntry(id: 40, at: t0, databaseRole: "ops", actor: "ops", action: "queue.pause",
                              filter: JSONText("{}"), affected: 1)]
        let action = OperatorAction.undoRequeue(auditID: 41)
        #expect(press(&s, .character("u")) == [.preview(action)])
        #expect(s.confirmation?.count == nil)
        _ = reduce(&s, .previewCounted(action, count: 3, asOf: t0))
        #expect(s.confirmation?.prompt == "Undo requeue #41? 3 jobs not started yet go back to the DLQ as they were.")
        #expect(press(&s, .character("y")) == [.perform(action)])
        // Another action's row: u does nothing.
        var other = s
        other.cursor[.audit] = 1
        #expect(press(&other, .character("u")) == [])
    }

    @Test func aGroupRequeueDialogCarriesTheSampleOfItsPreview() {
        var s = onGroups()
        let asked = OperatorAction.requeueGroup(DLQGroupKey(group), resetAttempts: false, asOf: nil)
        #expect(press(&s, .character("r")) == [.preview(asked)])
        let sample = (0..<5).map { i in
            DLQJob(id: UUID(), queue: "orders", jobType: "ship", errorType: "timeout", errorMessage: "timeout after \(i) ms",
                   attemptCount: 5, maxAttempts: 5, lastErrorAt: t0, createdAt: t0)
        }
        _ = reduce(&s, .previewCounted(asked, count: 4, asOf: t0, sample: sample.map(JobSummary.init(deadLetter:))))
        #expect(s.confirmation?.sample.map(\.id) == sample.map(\.id) && s.confirmation?.count == 4)
        #expect(s.confirmation?.sample.allSatisfy { $0.state == .dead && $0.errorMessage?.hasPrefix("timeout after") == true } == true)
    }
}

import Dashboard
import Foundation
import Postgres
@testable import QueueStore
import Testing

/// The Timeline screen's keys (0, `:timeline`, Enter opens where an entry came from), `y` copy
/// and `:dump`: what the reducer asks the drawing thread to do.
@Suite struct TimelineKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    let job = UUID(uuidString: "0193a1b2-7c1e-7a2b-9f00-000000000007")!

    func entry(_ source: TimelineEntry.Source, _ event: String, id: Int64, queue: String? = nil, job: UUID? = nil) -> TimelineEntry {
        TimelineEntry(at: t0.addingTimeInterval(-Double(id) * 60), source: source, event: event, queue: queue, actor: "ana",
                      summary: "s", id: id, jobID: job, affected: 1, detail: JSONText("{}"))
    }

    func onTimeline() -> DashboardState {
        var s = DashboardState(now: t0)
        #expect(reduce(&s, .key(.character("0"))) == [.loadTimeline])
        _ = reduce(&s, .timelineLoaded([entry(.audit, "job.cancel", id: 1, job: job), entry(.audit, "queue.pause", id: 2, queue: "emails"),
                                        entry(.mark, "deploy", id: 3), entry(.alert, "alert.firing", id: 4, queue: "gone")]))
        return s
    }

    @Test func zeroAndTheCommandOpenTheTimelineAndItReloadsWithTheSnapshot() {
        var s = DashboardState(now: t0)
        for c in ":timeline" { _ = reduce(&s, .key(.character(c))) }
        #expect(reduce(&s, .key(.enter)) == [.loadTimeline])
        #expect(s.screen == .timeline)
        #expect(reduce(&s, .key(.control("r"))) == [.refresh, .loadTimeline])
        _ = reduce(&s, .key(.escape))
        #expect(s.screen == .overview)
        #expect(Screen.allCases.last == .timeline && Screen.timeline.key == "0")
    }

    @Test func enterOpensTheJobTheAuditRowOrSaysWhyNot() {
        var s = onTimeline()
        // A job the action concerned: opened over the timeline; Esc comes back to it.
        #expect(reduce(&s, .key(.enter)) == [.loadJobDetail(job)])
        #expect(s.openedJob?.id == job)
        _ = reduce(&s, .key(.escape))
        #expect(s.screen == .timeline && s.openedJob == nil)
        // An audit row: the Audit screen, with the cursor on that row once it has loaded.
        _ = reduce(&s, .key(.down))
        #expect(reduce(&s, .key(.enter)) == [.loadAudit])
        #expect(s.screen == .audit)
        let rows = (1...5).map { AuditEntry(id: Int64(6 - $0), at: t0, databaseRole: "r", actor: nil, action: "a", filter: JSONText("{}"), affected: 0) }
        _ = reduce(&s, .auditLoaded(rows))
        #expect(s.cursorRow == 3 && s.visibleAudit[s.cursorRow].id == 2)
        // A row the audit list no longer holds: said so, not a cursor somewhere else.
        _ = reduce(&s, .key(.character("0")))
        #expect(s.focusedTimelineEntry?.event == "queue.pause")
        _ = reduce(&s, .auditLoaded(Array(rows.prefix(2))))
        _ = reduce(&s, .key(.enter))
        #expect(s.flash?.text.contains("audit row #2 is older") == true)
        // A mark has nothing behind it; an alert about a queue not on screen says so.
        _ = reduce(&s, .key(.character("0")))
        _ = reduce(&s, .key(.down))
        #expect(reduce(&s, .key(.enter)) == [] && s.screen == .timeline)
        _ = reduce(&s, .key(.down))
        #expect(reduce(&s, .key(.enter)) == [] && s.screen == .timeline)
        #expect(s.flash?.text.contains("names no queue on screen") == true)
    }

    /// The walk3 demo: an action newer than the audit list last loaded (the lead migration's
    /// latest batch) was opened from the Timeline with "older than the 500 rows" in the footer.
    /// It waits for the reload instead, then gets the cursor.
    @Test func aRowNewerThanTheLoadedAuditListWaitsForTheReload() {
        var s = onTimeline()
        let rows = (1...5).map { AuditEntry(id: Int64(6 - $0), at: t0, databaseRole: "r", actor: nil, action: "a", filter: JSONText("{}"), affected: 0) }
        _ = reduce(&s, .auditLoaded(Array(rows.suffix(2))))  // ids 2 and 1: the list before action #3 and on
        _ = reduce(&s, .timelineLoaded([entry(.audit, "queue.pause", id: 4, queue: "emails")]))
        #expect(reduce(&s, .key(.enter)) == [.loadAudit])
        #expect(s.screen == .audit && s.flash == nil, "\(s.flash?.text ?? "")")
        _ = reduce(&s, .auditLoaded(rows))
        #expect(s.flash == nil && s.visibleAudit[s.cursorRow].id == 4)
    }

    @Test func yCopiesTheSelectedJobIDOrTheOpenPayload() {
        var s = onTimeline()
        #expect(reduce(&s, .key(.character("y"))) == [.copy(text: "0193a1b2-7c1e-7a2b-9f00-000000000007", what: "job id")])
        _ = reduce(&s, .key(.down))
        #expect(reduce(&s, .key(.character("y"))) == [])
        #expect(s.flash?.text.hasPrefix("nothing to copy here") == true)
        // In a job view: the payload, once loaded.
        _ = reduce(&s, .key(.up))
        _ = reduce(&s, .key(.enter))
        #expect(reduce(&s, .key(.character("y"))) == [], "still loading")
        let inspection = JobInspection(id: job, queue: "emails", jobType: "send", status: "cancelled", priority: 0, attemptCount: 0,
                                       maxAttempts: 5, createdAt: t0, runAt: t0, payloadJSON: #"{"to":"a@example.com"}"#)
        _ = reduce(&s, .jobDetailLoaded(job, JobDetail(job: inspection, attempts: [])))
        #expect(reduce(&s, .key(.character("y"))) == [.copy(text: #"{"to":"a@example.com"}"#, what: "payload of job \(ShortJobID.of(job))")])
        // In a confirmation dialog y still means yes, never copy.
        var d = DashboardState(now: t0)
        d.confirmation = Confirmation(action: .deleteJobs([job]), count: 1)
        #expect(reduce(&d, .key(.character("y"))) == [.perform(.deleteJobs([job]))])
    }

    @Test func dumpNeedsAPathAndKeepsItsCase() {
        var s = onTimeline()
        for c in ":dump /tmp/Incident 42.txt" { _ = reduce(&s, .key(.character(c))) }
        #expect(reduce(&s, .key(.enter)) == [.dumpScreen(path: "/tmp/Incident 42.txt", overwrite: false)])
        for c in ":dump! ~/x.txt" { _ = reduce(&s, .key(.character(c))) }
        #expect(reduce(&s, .key(.enter)) == [.dumpScreen(path: "~/x.txt", overwrite: true)])
        for c in ":dump" { _ = reduce(&s, .key(.character(c))) }
        #expect(reduce(&s, .key(.enter)) == [])
        #expect(s.flash?.text.hasPrefix("usage: :dump FILE") == true && s.flash?.kind == .error)
        _ = reduce(&s, .terminalEffectDone("x exists; :dump! x replaces it", ok: false, at: t0))
        #expect(s.flash == Flash("x exists; :dump! x replaces it", kind: .error, at: t0))
        #expect(Effect.dumpScreen(path: "x", overwrite: false).isTerminalSide && !Effect.loadTimeline.isTerminalSide)
    }
}

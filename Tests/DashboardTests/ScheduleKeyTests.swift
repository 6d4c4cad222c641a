import Dashboard
import Foundation
import Postgres
@testable import QueueStore
import Testing

/// The Schedules screen's keys: reaching it, toggling, running now behind a confirmation,
/// and refusing both in read-only mode.
@Suite struct ScheduleKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    func schedule(_ name: String, enabled: Bool) -> Schedule {
        Schedule(name: name, cron: "0 * * * *", queue: "emails", jobType: "send_digest", payload: JSONText("{}"),
                 priority: 0, enabled: enabled, nextRunAt: t0.addingTimeInterval(600), lastRunAt: nil, lastJobID: nil,
                 lastOutcome: nil, missedTicks: 0)
    }

    func onSchedules(readOnly: Bool = false) -> DashboardState {
        var s = DashboardState(now: t0, readOnly: readOnly)
        #expect(reduce(&s, .key(.character("7"))) == [.loadSchedules])
        _ = reduce(&s, .schedulesLoaded([schedule("digest", enabled: true), schedule("legacy", enabled: false)]))
        return s
    }

    @Test func sevenAndTheCommandOpenTheScreenAndItReloadsWithTheSnapshot() {
        var s = DashboardState(now: t0)
        for c in ":schedules" { _ = reduce(&s, .key(.character(c))) }
        #expect(reduce(&s, .key(.enter)) == [.loadSchedules])
        #expect(s.screen == .schedules)
        #expect(reduce(&s, .key(.control("r"))) == [.refresh, .loadSchedules])
        #expect(reduce(&s, .actionFinished("done", at: t0)) == [.refresh, .loadSchedules])
        _ = reduce(&s, .key(.escape))
        #expect(s.screen == .overview)
    }

    @Test func eTogglesTheSelectedScheduleWithoutAsking() {
        var s = onSchedules()
        #expect(reduce(&s, .key(.character("e"))) == [.perform(.setScheduleEnabled(name: "digest", enabled: false))])
        _ = reduce(&s, .key(.down))
        #expect(reduce(&s, .key(.character("e"))) == [.perform(.setScheduleEnabled(name: "legacy", enabled: true))])
        #expect(s.confirmation == nil)
    }

    @Test func tRunsNowOnlyAfterYes() {
        var s = onSchedules()
        #expect(reduce(&s, .key(.character("t"))) == [])
        let action = OperatorAction.runSchedule(name: "digest", queue: "emails", jobType: "send_digest")
        #expect(s.confirmation == Confirmation(action: action, count: 1))
        #expect(s.confirmation?.prompt.contains("enqueues one send_digest job on emails") == true)
        #expect(reduce(&s, .key(.character("n"))) == [])
        _ = reduce(&s, .key(.character("t")))
        #expect(reduce(&s, .key(.character("y"))) == [.perform(action)])
    }

    @Test func readOnlyRefusesBothAndNothingHappensWithoutASchedule() {
        var ro = onSchedules(readOnly: true)
        #expect(reduce(&ro, .key(.character("e"))) == [])
        #expect(reduce(&ro, .key(.character("t"))) == [])
        #expect(ro.confirmation == nil && ro.flash?.text.contains("read-only") == true)
        var empty = DashboardState(now: t0)
        _ = reduce(&empty, .key(.character("7")))
        _ = reduce(&empty, .schedulesLoaded([]))
        #expect(reduce(&empty, .key(.character("e"))) == [] && reduce(&empty, .key(.character("t"))) == [])
        #expect(empty.confirmation == nil)
    }

    @Test func theFilterNarrowsByNameQueueOrType() {
        var s = onSchedules()
        for c in "/legacy" { _ = reduce(&s, .key(.character(c))) }
        #expect(s.visibleSchedules.map(\.name) == ["legacy"])
        #expect(reduce(&s, .key(.enter)) == [])
        #expect(reduce(&s, .key(.character("e"))) == [.perform(.setScheduleEnabled(name: "legacy", enabled: true))])
    }
}

import Foundation
@testable import QueueStore
import TerminalUI
import Testing

/// The overview's alert hook line: shown only when hooks exist, saying how the latest delivery
/// went; a compact terminal gives its row to the queues.
@Suite struct HookDeliveryLineTests {
    typealias F = DashboardFixture

    static func delivery(ok: Bool, status: Int?, error: String?, notification: String) -> AlertDelivery {
        AlertDelivery(id: 7, hook: "ops-slack", alertKey: "emails:dlq_above_threshold", event: "firing", attempt: 2, ok: ok,
                      httpStatus: status, error: error, durationMs: 40, at: F.ago(95), notificationStatus: notification)
    }

    static func overview(_ hooks: AlertHookSummary?) -> DashboardState {
        var state = F.state(.overview)
        state.alertHooks = hooks
        return state
    }

    @Test func aFailedDeliveryIsShownUnderTheAlerts() throws {
        let state = Self.overview(AlertHookSummary(hookCount: 2, lastDelivery: Self.delivery(ok: false, status: 503, error: "HTTP 503", notification: "pending")))
        let screen = DashboardScreenTests.draw(state, 80, 24)
        try assertScreen(screen, named: "overview-hook-delivery-80x24")
        try assertScreen(DashboardScreenTests.draw(state, 120, 40), named: "overview-hook-delivery-120x40")
        #expect(screen.plainText().contains("hook ops-slack, 1m ago: failed HTTP 503, will retry · firing emails:dlq_above"))
        let compact = DashboardScreenTests.draw(state, 70, 20).plainText()
        #expect(!compact.contains("hook ops-slack"))
    }

    @Test func eachOutcomeReadsPlainly() {
        func text(_ hooks: AlertHookSummary?) -> String { DashboardScreenTests.draw(Self.overview(hooks), 120, 40).plainText() }
        #expect(text(AlertHookSummary(hookCount: 1, lastDelivery: Self.delivery(ok: true, status: 200, error: nil, notification: "delivered")))
            .contains("hook ops-slack, 1m ago: ok, HTTP 200 · firing emails:dlq_above_threshold"))
        #expect(text(AlertHookSummary(hookCount: 1, lastDelivery: Self.delivery(ok: false, status: nil, error: "connection refused", notification: "failed")))
            .contains("failed connection refused, gave up"))
        #expect(text(AlertHookSummary(hookCount: 3, lastDelivery: nil)).contains("3 alert hooks, no delivery yet"))
        // No hooks (or not loaded yet): no line, the overview is as before.
        let none = DashboardScreenTests.draw(Self.overview(AlertHookSummary(hookCount: 0, lastDelivery: nil)), 120, 40)
        #expect(none == DashboardScreenTests.draw(Self.overview(nil), 120, 40))
        #expect(!none.plainText().contains("alert hook"))
    }
}

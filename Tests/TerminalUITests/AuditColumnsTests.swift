import Foundation
import Testing
import TerminalUI
import QueueStore
import Postgres

/// The audit screen at 80 columns with the rows the demo really writes (found walking the demo):
/// the dashboard's own actions are "postgres (claims queuetop root@vm)", lead migrations are
/// `lead_migration.queue` of 60,000 rows. The table used to give ACTOR and ROLE their width
/// first, leaving "lead_…" for the action and "…" for the count: what was done, and to how
/// many, was unreadable on the terminal size the console is built for.
@Suite struct AuditColumnsTests {
    static func demoState() -> DashboardState {
        var state = DashboardFixture.state(.audit)
        func row(_ id: Int64, _ ago: TimeInterval, _ action: String, _ filter: String, _ affected: Int64) -> AuditEntry {
            AuditEntry(id: id, at: DashboardFixture.ago(ago), databaseRole: "postgres", actor: "postgres", action: action,
                       filter: JSONText(filter), affected: affected, clientLabel: "queuetop root@vm")
        }
        state.audit = [
            row(29, 15, "lead_migration.queue", #"{"run_id": "01a23792-72f7-721d-a264-9dd6a08de2e2", "batch_size": 250}"#, 60_000),
            row(28, 60, "error_group.reopen", #"{"queue": "emails", "fingerprint": "b0b361441308"}"#, 1),
            row(23, 120, "dlq.requeue", #"{"queue": "emails", "fingerprint": "91563bd9dd27"}"#, 120),
        ]
        return state
    }

    static func rowLine(_ buffer: ScreenBuffer, _ action: String) -> String {
        buffer.plainText().split(separator: "\n").first { $0.contains(action) }.map(String.init) ?? ""
    }

    @Test(arguments: [false, true])
    func actionAndCountAreWholeAt80Columns(ascii: Bool) throws {
        let buffer = DashboardScreenTests.draw(Self.demoState(), 80, 24, ascii: ascii)
        try assertScreen(buffer, named: ascii ? "audit-demo-ascii-80x24" : "audit-demo-80x24")
        // Each row's action whole, then its count whole.
        for (action, count) in [("lead_migration.queue", "60k"), ("error_group.reopen", "1"), ("dlq.requeue", "120")] {
            let words = Self.rowLine(buffer, action).split(separator: " ").map(String.init)
            let at = words.firstIndex(of: action)
            #expect(at.map { words[$0 + 1] } == count, "\(words)")
        }
        // The role only repeated the actor (the login role since 0014): its column makes way.
        #expect(!buffer.plainText().contains("ROLE"))
    }

    @Test func theClaimNamesTheOperatorNotTheProgram() {
        let entry = Self.demoState().audit[0]
        #expect(entry.actorDescription == "postgres (claims root@vm)")
        // Any other label is shown as the client sent it.
        let other = AuditEntry(id: 1, at: DashboardFixture.now, databaseRole: "app", actor: "app", action: "dlq.requeue",
                               filter: JSONText("{}"), affected: 1, clientLabel: "psql")
        #expect(other.actorDescription == "app (claims psql)")
    }

    @Test func theRoleStaysWhenItSaysSomethingTheActorDoesNot() {
        // Rows from before 0014 (the actor was the client's claim) and the expirer's keep ROLE.
        let text = DashboardScreenTests.draw(DashboardFixture.state(.audit), 80, 24).plainText()
        #expect(text.contains("ROLE"))
    }
}

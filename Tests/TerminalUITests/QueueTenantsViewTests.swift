import Foundation
import QueueStore
import TerminalUI
import Testing

/// Queue detail's tenant caps, top tenants and expired counts: shown for the queue on screen
/// only, with their loading and empty states, at every layout; and the expirer's audit rows.
@Suite struct QueueTenantsViewTests {
    typealias F = DashboardFixture

    func lines(_ buffer: ScreenBuffer) -> [String] { buffer.plainText().split(separator: "\n").map(String.init) }

    @Test func tenantsAreRankedByBacklogWithTheCapsAndExpiredCounts() {
        let text = lines(DashboardScreenTests.draw(F.state(.queue), 80, 24))
        let ranked = ["shop-acme", "shop-globex", "shop-초롱-마켓", "tenant-with-a-very-long", "shop-initech"]
            .map { name in text.firstIndex { $0.contains(name) } }
        #expect(ranked.allSatisfy { $0 != nil } && ranked.map { $0! } == ranked.map { $0! }.sorted())
        let acme = text.first { $0.contains("shop-acme") } ?? ""
        #expect(acme.contains("812") && acme.contains("4m"))
        #expect(text.contains { $0.contains("tenant cap") && $0.contains("4 at a time · 5/s each") })
        #expect(text.contains { $0.contains("expired") && $0.contains("3 in 1h · 41 in 24h") })
    }

    @Test func aTenantAtItsInFlightCapShowsItsProcessingCountAsAWarning() throws {
        let buffer = DashboardScreenTests.draw(F.state(.queue), 80, 24)
        let text = lines(buffer)
        let acmeRow = try #require(text.firstIndex { $0.contains("shop-acme") })
        let globexRow = try #require(text.firstIndex { $0.contains("shop-globex") })
        // The PROC column ends where the header's "PROC" ends.
        let header = try #require(text.first { $0.contains("PENDING PROC") })
        let procX = try #require(header.range(of: "PROC")).upperBound.utf16Offset(in: header) - 1
        #expect(buffer[procX, acmeRow].style.foreground == .warn)      // 4 of cap 4
        #expect(buffer[procX, globexRow].style.foreground != .warn)    // 2 of cap 4
    }

    @Test func aQueueWithoutTenantKeysSaysSoAtEveryLayout() throws {
        var state = F.state(.queue)
        state.queueTenants = QueueTenantReport(queue: "emails", caps: TenantCaps(concurrencyLimit: nil, ratePerSecond: nil),
                                               tenants: [], expired: ExpiredCounts(lastHour: 0, last24h: 0))
        let regular = DashboardScreenTests.draw(state, 80, 24)
        try assertScreen(regular, named: "queue-no-tenants-80x24")
        #expect(regular.plainText().contains("no tenant keys in this queue"))
        #expect(lines(regular).contains { $0.contains("tenant cap") && $0.contains("none") })
        #expect(DashboardScreenTests.draw(state, 120, 40).plainText().contains("no tenant keys in this queue"))
        let compact = lines(DashboardScreenTests.draw(state, 70, 20))
        #expect(compact.contains { $0.contains("tenants") && $0.contains("no tenant keys in this queue") })
    }

    @Test func anotherQueuesReportIsNeverShownAsThisOnes() throws {
        var state = F.state(.queue)
        state.selectedQueue = "store-sync"  // the loaded report is the emails queue's
        for (w, h) in [(80, 24), (120, 40), (70, 20)] {
            let text = DashboardScreenTests.draw(state, w, h).plainText()
            #expect(!text.contains("shop-acme") && !text.contains("41 in 24h"), "\(w)x\(h)")
            #expect(text.contains("loading"), "\(w)x\(h)")
        }
        try assertScreen(DashboardScreenTests.draw(state, 70, 20), named: "queue-tenants-loading-compact-70x20")
    }

    @Test func anExpiryAuditRowNamesTheQueueAndShortIdsAndItsDetailTheFullOnes() {
        let text = lines(DashboardScreenTests.draw(F.state(.audit), 120, 40))
        let row = text.first { $0.contains("job.expire") && $0.contains("57") } ?? ""
        // The random tails (ShortJobID), not the clock prefix every id of that second shares.
        #expect(row.contains("campaign-messages · ids 000c344b 000c533a"))
        #expect(!row.contains("\""))
        #expect(text.contains { $0.contains("campaign-messages: cancelled, still pending at expires_at") })
        #expect(text.contains { $0.contains("ids") && $0.contains("01930065-7c1e-7a2b-9f00-0000000c344b") })
        // Other actions keep their JSON filter.
        #expect(text.contains { $0.contains("pause_queue") && $0.contains(#"{"queue": "lead-migration"}"#) })
    }
}

import Dashboard
import Foundation
import QueueStore
import Testing

/// The per-tick refresh carries no per-type figures (docs/HEALTH.md, "Per-type figures"): queue
/// detail loads its own queue's with every refresh of it, shows them over that queue's snapshot
/// row, and never another queue's; no other screen asks for them.
@Suite struct QueueTypesKeyTests {
    let tenants = QueueTenantsKeyTests()
    let send = [TypeHealth(type: "send", completed: 30, failed: 3, p50: 12, p95: 40, p99: 90, samples: 30),
                TypeHealth(type: nil, completed: 2, failed: 0, p50: 5, p95: 5, p99: 5, samples: 2)]

    @Test func queueDetailShowsTheTypesOfItsQueueOnly() throws {
        var s = try tenants.connected()
        #expect(reduce(&s, .key(.character("2"))) == [.loadQueueTenants("emails"), .loadQueueTypes("emails")])
        #expect(s.focusedQueue?.types == nil)  // loading: the refresh brought none
        _ = reduce(&s, .queueTypesLoaded("emails", send))
        #expect(s.focusedQueue?.name == "emails" && s.focusedQueue?.types == send)
        // A new snapshot (no types in it) keeps them on screen until the next answer.
        let snapshot = try #require(s.snapshot)
        _ = reduce(&s, .snapshotLoaded(snapshot, at: tenants.t0.addingTimeInterval(2)))
        #expect(s.focusedQueue?.types == send)
        // Into the other queue: emails' figures must not show as sync's, nor a late emails answer.
        _ = reduce(&s, .key(.escape))
        _ = reduce(&s, .key(.down))
        #expect(reduce(&s, .key(.enter)) == [.loadQueueTenants("sync"), .loadQueueTypes("sync")])
        #expect(s.focusedQueue?.name == "sync" && s.focusedQueue?.types == nil)
        _ = reduce(&s, .queueTypesLoaded("emails", send))
        #expect(s.focusedQueue?.types == nil)
        _ = reduce(&s, .queueTypesLoaded("sync", []))
        #expect(s.focusedQueue?.types == [])
    }

    @Test func noOtherScreenAsksForPerTypeFigures() throws {
        for screen in "134567" {
            var other = try tenants.connected()
            let opened = reduce(&other, .key(.character(screen)))
            var asked = opened + reduce(&other, .tick(tenants.t0.addingTimeInterval(2)))
            asked += reduce(&other, .changed(at: tenants.t0.addingTimeInterval(2.1))) + reduce(&other, .key(.control("r")))
            #expect(!asked.contains { if case .loadQueueTypes = $0 { true } else { false } }, "screen \(screen) asked \(asked)")
        }
    }
}

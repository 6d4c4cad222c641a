import Foundation
import Testing
import QueueStore
import TestSupport
@testable import Workers

/// The ledger's slot accounting: what bounds how many jobs a crash can run twice.
@Suite struct LedgerTests {
    private func jobs(_ n: Int, from start: Int = 0) -> [WorkerJob] {
        (start..<start + n).map { WorkerJob(id: .numbered($0), queue: "q", type: "t", payload: "{}") }
    }

    @Test func unwrittenResultsHoldBackClaimsUntilTheyAreCommitted() {
        let ledger = Ledger()
        // 4 slots, at most 6 handled-but-unwritten results.
        #expect(ledger.reserve(upTo: 10, capacity: 4, minimum: 1, maxUnwritten: 6) == 4)
        var held = jobs(4)
        ledger.claimed(held, reserved: 4)
        var finished: [JobID] = []
        for round in 0..<3 {
            for job in held {
                _ = ledger.start(job.id)
                ledger.finish(job.id, outcome: .completed, handlerNanos: 1_000_000)
                finished.append(job.id)
            }
            // Running slots are free again, but only 6 - unwritten may be claimed.
            let room = max(0, 6 - finished.count)
            let reserved = ledger.reserve(upTo: 10, capacity: 4, minimum: 1, maxUnwritten: 6)
            #expect(reserved == min(4, room), "round \(round)")
            held = jobs(reserved, from: 100 * (round + 1))
            ledger.claimed(held, reserved: reserved)
        }
        #expect(finished.count == 6)
        #expect(ledger.reserve(upTo: 10, capacity: 4, minimum: 1, maxUnwritten: 6) == 0)
        // The completer committed them: claiming resumes.
        ledger.forget(finished)
        #expect(ledger.reserve(upTo: 10, capacity: 4, minimum: 1, maxUnwritten: 6) == 4)
    }

    @Test func aFlushThatFailedKeepsItsResultsCountedAsUnwritten() {
        let ledger = Ledger()
        _ = ledger.reserve(upTo: 2, capacity: 2, minimum: 1, maxUnwritten: 2)
        ledger.claimed(jobs(2), reserved: 2)
        for id in [JobID.numbered(0), .numbered(1)] {
            _ = ledger.start(id)
            ledger.finish(id, outcome: .completedWithResult("{}"), handlerNanos: 1_000_000)
        }
        let (taken, _) = ledger.takeResults(max: 10)
        #expect(taken.map(\.result) == ["{}", "{}"])
        ledger.putBack(taken, [])  // the write failed
        #expect(ledger.reserve(upTo: 2, capacity: 2, minimum: 1, maxUnwritten: 2) == 0)
        #expect(ledger.hasPendingResults)
    }
}

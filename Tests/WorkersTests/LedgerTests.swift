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

    /// Run and finish `ids` (no window), as executors do.
    private func runAll(_ ledger: Ledger, _ ids: [JobID]) {
        for id in ids {
            _ = ledger.start(id)
            ledger.finish(id, outcome: .completed, handlerNanos: 1_000_000)
        }
    }

    /// The registry heartbeat reports the jobs held, not the slots reserved for a claim still
    /// on its way: the Workers screen showed BUSY 36 with CONC 16 and BUF 0 from those.
    @Test func heartbeatFiguresCountHeldJobsNotReservedSlots() {
        let ledger = Ledger()
        #expect(ledger.reserve(upTo: 36, capacity: 36, minimum: 1, maxUnwritten: 100) == 36)
        #expect(ledger.heartbeatFigures() == (held: 0, buffered: 0), "a claim in flight holds no job yet")
        let held = jobs(20)
        ledger.claimed(held, reserved: 36)
        for job in held.prefix(16) { _ = ledger.start(job.id) }
        let figures = ledger.heartbeatFigures()
        #expect(figures == (held: 20, buffered: 4))
        #expect(figures.held - figures.buffered == 16, "BUSY: handlers running")
        ledger.finish(held[0].id, outcome: .completed, handlerNanos: 1_000_000)
        #expect(ledger.heartbeatFigures() == (held: 19, buffered: 4), "a handled job is no longer in flight")
    }

    /// A server crash can lose a claim (claim_jobs commits asynchronously): the job is pending
    /// again and this worker may claim it anew while its first run is still held. The held entry
    /// goes on (its complete now matches the new claim); the job is not run a second time in
    /// this process, and its second slot is freed, not leaked.
    @Test func aJobClaimedAgainWhileHeldIsNotTakenTwice() {
        let ledger = Ledger()
        #expect(ledger.reserve(upTo: 4, capacity: 8, minimum: 1, maxUnwritten: 100) == 4)
        let first = jobs(4)
        #expect(ledger.claimed(first, reserved: 4).map(\.id) == first.map(\.id))
        _ = ledger.start(first[0].id)                                           // running
        _ = ledger.start(first[1].id)
        ledger.finish(first[1].id, outcome: .completed, handlerNanos: 1_000_000) // unwritten
        // first[2] stays buffered; first[3] was written and forgotten.
        _ = ledger.start(first[3].id)
        ledger.finish(first[3].id, outcome: .completed, handlerNanos: 1_000_000)
        ledger.forget([first[3].id])
        let before = ledger.slotsInUse
        #expect(ledger.reserve(upTo: 4, capacity: 8, minimum: 1, maxUnwritten: 100) == 4)
        let again = [first[0], first[1], first[2], first[3]]
        let taken = ledger.claimed(again, reserved: 4)
        #expect(taken.map(\.id) == [first[3].id], "only the job no longer held is taken")
        #expect(ledger.slotsInUse == before + 1, "the held jobs' second slots are freed")
        #expect(ledger.start(first[0].id) == nil, "the running job is not started again")
        #expect(ledger.heartbeatFigures() == (held: 3, buffered: 2))
    }

    @Test func unwrittenResultsHoldBackClaimsUntilTheyAreCommitted() {
        let ledger = Ledger()
        // 4 slots; claiming stops once 6 handled results are unwritten.
        #expect(ledger.reserve(upTo: 10, capacity: 4, minimum: 1, maxUnwritten: 6) == 4)
        let first = jobs(4)
        ledger.claimed(first, reserved: 4)
        runAll(ledger, first.map(\.id))
        // 4 unwritten, under the cap: a whole claim, not cut to the 2 left under it. Jobs claimed
        // and not started never ran; the window is kept where handlers start (next test).
        #expect(ledger.reserve(upTo: 10, capacity: 4, minimum: 1, maxUnwritten: 6) == 4)
        let second = jobs(4, from: 100)
        ledger.claimed(second, reserved: 4)
        runAll(ledger, second.map(\.id))
        #expect(ledger.reserve(upTo: 10, capacity: 4, minimum: 1, maxUnwritten: 6) == 0)
        // The completer committed them: claiming resumes.
        ledger.forget((first + second).map(\.id))
        #expect(ledger.reserve(upTo: 10, capacity: 4, minimum: 1, maxUnwritten: 6) == 4)
    }

    /// However many jobs a claim holds, no more than the window are running or handled with
    /// their result unwritten: what a kill -9 can run twice (docs/WORKERS.md "The window").
    @Test func handlersStartOnlyWithinTheAtLeastOnceWindow() {
        let ledger = Ledger()
        #expect(ledger.reserve(upTo: 50, capacity: 50, minimum: 1, maxUnwritten: 4) == 50)
        let held = jobs(50)
        ledger.claimed(held, reserved: 50)
        let window = 6
        var started: [JobID] = []
        for job in held {
            if case .started = ledger.tryStart(job.id, window: window) { started.append(job.id) } else { break }
        }
        #expect(started.count == window, "the 7th waits for room")
        for id in started.prefix(3) { ledger.finish(id, outcome: .completed, handlerNanos: 1_000_000) }
        guard case .windowFull = ledger.tryStart(held[6].id, window: window) else {
            Issue.record("3 running + 3 unwritten fill a window of 6"); return
        }
        ledger.forget(Array(started.prefix(3)))  // committed
        guard case .started = ledger.tryStart(held[6].id, window: window) else {
            Issue.record("committed results make room"); return
        }
        #expect(ledger.running == 4 && ledger.unwrittenResults == 0 && ledger.waiting == 43)
        // A job released from the buffer while its executor waited for room never runs.
        #expect(ledger.takeWaiting(held[7].id))
        guard case .gone = ledger.tryStart(held[7].id, window: window) else {
            Issue.record("a released job must not run"); return
        }
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

    /// A fast drain claims its next batch while the current one is written (the buffer nearly
    /// empty, the write young); a write that has been in flight for long (a slow database), or
    /// results waiting with no write under way, still hold claims back, and nothing held ever
    /// passes `capacity`.
    @Test func claimsGoAheadOfAYoungWriteOnlyWhenTheBufferIsNearlyEmpty() {
        let ledger = Ledger()
        #expect(ledger.reserve(upTo: 10, capacity: 6, minimum: 2, maxUnwritten: 4) == 6)
        let held = jobs(6)
        ledger.claimed(held, reserved: 6)
        runAll(ledger, held.prefix(5).map(\.id))  // 5 unwritten (over the cap), 1 waiting
        // No write under way: held back, however young the cutoff.
        #expect(ledger.reserve(upTo: 10, capacity: 6, minimum: 2, maxUnwritten: 4, writeStartedAfter: 0) == 0)
        let (taken, _) = ledger.takeResults(max: 10)  // the completer's write begins
        #expect(taken.count == 5)
        // Young write, 1 waiting (< minimum 2): claim 5 now, while it is written.
        #expect(ledger.reserve(upTo: 10, capacity: 6, minimum: 2, maxUnwritten: 4, writeStartedAfter: Ledger.ago(60)) == 5)
        ledger.claimed(jobs(5, from: 100), reserved: 5)
        // Now 6 wait: no more, even ahead of a young write (and capacity is full anyway).
        #expect(ledger.reserve(upTo: 10, capacity: 20, minimum: 2, maxUnwritten: 4, writeStartedAfter: 0) == 0)
        // A write older than the cutoff (slow database) holds claims back as before.
        let ledger2 = Ledger()
        _ = ledger2.reserve(upTo: 4, capacity: 4, minimum: 1, maxUnwritten: 2)
        ledger2.claimed(jobs(4), reserved: 4)
        runAll(ledger2, jobs(4).map(\.id))
        _ = ledger2.takeResults(max: 10)
        #expect(ledger2.reserve(upTo: 4, capacity: 4, minimum: 1, maxUnwritten: 2, writeStartedAfter: Ledger.now()) == 0)
        // Committed: the cap no longer applies.
        ledger2.forget(jobs(4).map(\.id))
        #expect(ledger2.reserve(upTo: 4, capacity: 4, minimum: 1, maxUnwritten: 2, writeStartedAfter: Ledger.now()) == 4)
    }

    /// The completer holds a write for more results only while more can come before a commit:
    /// a handler running, or a buffered job with room to start. Idle, or with the window full,
    /// it writes what it has at once (no added latency for a lone job, no stall).
    @Test func theCompleterWaitsForMoreResultsOnlyWhileMoreCanFinish() {
        let ledger = Ledger()
        _ = ledger.reserve(upTo: 6, capacity: 6, minimum: 1, maxUnwritten: 100)
        let held = jobs(6)
        ledger.claimed(held, reserved: 6)
        runAll(ledger, [held[0].id])  // 1 result, 5 waiting with room in a window of 4
        #expect(ledger.moreResultsImminent(target: 4, window: 4))
        #expect(!ledger.moreResultsImminent(target: 1, window: 4), "a full batch is there")
        _ = ledger.start(held[1].id)
        _ = ledger.start(held[2].id)
        _ = ledger.start(held[3].id)  // 3 running + 1 unwritten: the window of 4 is full
        #expect(ledger.moreResultsImminent(target: 4, window: 4), "running handlers will finish")
        for id in held[1...3].map(\.id) { ledger.finish(id, outcome: .completed, handlerNanos: 1) }
        // 4 unwritten, none running, 2 waiting but no room: nothing more before a commit.
        #expect(!ledger.moreResultsImminent(target: 10, window: 4))
        let idle = Ledger()
        _ = idle.reserve(upTo: 1, capacity: 1, minimum: 1, maxUnwritten: 10)
        idle.claimed(jobs(1), reserved: 1)
        runAll(idle, [JobID.numbered(0)])
        #expect(!idle.moreResultsImminent(target: 200, window: 210), "a lone job is written at once")
    }
}

import Foundation
import Synchronization
import Testing
import QueueStore
import TestSupport
@testable import Workers

/// The executors' hand-off. With at most one wake-up in flight, a lost wake-up would leave jobs
/// waiting while executors sleep: these run real threads against it.
@Suite struct WorkQueueTests {
    private func jobs(_ n: Int, from start: Int = 0) -> [WorkerJob] {
        (start..<start + n).map { WorkerJob(id: .numbered($0), queue: "q", type: "t", payload: "{}") }
    }

    /// Starts `count` executor threads that pop until nil, calling `run` for each job.
    private func executors(_ count: Int, _ queue: WorkQueue, run: @escaping @Sendable (WorkerJob) -> Void) -> DispatchGroup {
        let done = DispatchGroup()
        for _ in 0..<count {
            done.enter()
            Thread {
                while let job = queue.pop() { run(job) }
                done.leave()
            }.start()
        }
        return done
    }

    @Test(arguments: [1, 7, 64])
    func aBatchOfSlowJobsReachesAsManyIdleExecutorsAsItHasJobs(batch: Int) {
        // Every job blocks until all of the batch have started: they can only all finish if
        // each one got its own executor while the others were still running.
        let queue = WorkQueue()
        let started = Atomic<Int>(0)
        let allStarted = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = executors(batch * 2, queue) { _ in
            if started.add(1, ordering: .sequentiallyConsistent).newValue == batch { allStarted.signal() }
            release.wait()
        }
        Thread.sleep(forTimeInterval: 0.05)  // every executor idle in pop()
        queue.push(jobs(batch))
        #expect(allStarted.wait(timeout: .now() + 10) == .success,
                "only \(started.load(ordering: .sequentiallyConsistent)) of \(batch) jobs started")
        for _ in 0..<batch { release.signal() }
        queue.close()
        #expect(done.wait(timeout: .now() + 10) == .success)
    }

    @Test func manySmallPushesWhileExecutorsComeAndGoRunEveryJobOnce() {
        let queue = WorkQueue()
        let seen = Mutex<[JobID: Int]>([:])
        let done = executors(16, queue) { job in
            if job.id.text.hasSuffix("7") { usleep(200) }  // a mix of instant and slower jobs
            seen.withLock { $0[job.id, default: 0] += 1 }
        }
        var pushed = 0
        for round in 0..<500 {
            let batch = jobs(Int.random(in: 1...20), from: round * 100)
            queue.push(batch)
            pushed += batch.count
            if round % 50 == 0 { usleep(2_000) }  // let executors go idle now and then
        }
        // Every job runs before close() (which wakes everyone anyway) could hide a lost wake-up.
        let deadline = Date().addingTimeInterval(20)
        while seen.withLock({ $0.count }) < pushed && Date() < deadline { usleep(1_000) }
        let counts = seen.withLock { $0 }
        #expect(counts.count == pushed, "jobs left waiting while executors slept: a wake-up was lost")
        #expect(counts.values.allSatisfy { $0 == 1 })
        queue.close()
        #expect(done.wait(timeout: .now() + 10) == .success)
    }

    @Test func oneExecutorTakesJobsInClaimOrder() {
        let queue = WorkQueue()
        queue.push(jobs(5))
        queue.push(jobs(3, from: 5))
        queue.close()
        var order: [JobID] = []
        while let job = queue.pop() { order.append(job.id) }
        #expect(order == (0..<8).map { JobID.numbered($0) })
    }

    @Test func closingWakesEveryIdleExecutorWithNothing() {
        let queue = WorkQueue()
        let done = executors(32, queue) { _ in }
        Thread.sleep(forTimeInterval: 0.05)
        queue.close()
        #expect(done.wait(timeout: .now() + 10) == .success)
    }
}

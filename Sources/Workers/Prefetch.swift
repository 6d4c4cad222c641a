import Foundation

/// How many jobs the pool may hold claimed beyond its free handler slots: a small local buffer
/// that lets one claim round trip carry a whole batch when jobs finish fast, instead of at most
/// the free slots (one round trip per `concurrency` jobs: 10 at the defaults, which held a
/// no-op drain at ~2.7 k jobs/s, docs/BENCHMARKS.md).
///
/// The buffer is sized by Little's law: as many jobs as the executors are expected to start
/// within a quarter of `maxWait`, from the mean handler time seen so far, counting only
/// executors not tied up by a job already running longer than that. Until a job has finished
/// (a fresh worker, nothing known) and while every executor is busy with long jobs it is 0,
/// and the pool claims only free slots, as it did before there was a buffer. It never exceeds
/// two batches (`limit`), so a worker holds at most `concurrency + 2 × batchSize` jobs claimed or
/// running (a claim still takes at most one batch: the second lets the fetcher claim the next
/// batch while the last one waits for room in the at-least-once window, so claim round trips
/// follow each other instead of waiting for the executors; NOTES part 5), nor
/// the number of jobs finished so far: the mean of a few runs underestimates a skewed latency
/// (one run of a log-normal 120 ms median sized a buffer of 80, and half of it waited past the
/// bound), so the buffer grows with the evidence, about doubling per claim for fast jobs.
///
/// `maxWait` is the hard bound: a job claimed and not started after that long is released back
/// to pending (`release_jobs`, not an attempt) by the fetcher, so a job claimed behind a long
/// one is started or handed to another worker within that time. Sizing for a quarter of it
/// makes such releases rare when handler times are steady.
struct PrefetchPolicy: Sendable {
    /// The longest a claimed job may wait for an executor before it is released; 0 = no buffer.
    var maxWait: TimeInterval
    /// Most jobs held beyond the handler slots (two batches in the pool).
    var limit: Int

    /// What the buffer aims to hold, in seconds of executor work; also the age after which a
    /// running job is taken to keep its executor busy for a while.
    var target: TimeInterval { maxWait / 4 }

    /// Jobs to claim beyond the free handler slots. `pace` is what finished so far;
    /// `busyExecutors` is how many jobs have been running longer than `target`.
    func allowance(concurrency: Int, busyExecutors: Int, pace: HandlerPace) -> Int {
        guard maxWait > 0, limit > 0, let mean = pace.meanSeconds else { return 0 }
        let available = concurrency - busyExecutors
        guard available > 0 else { return 0 }
        // A no-op handler takes about a microsecond; the floor keeps the quotient finite.
        let startable = Double(available) * target / max(mean, 1e-6)
        return Int(min(Double(min(limit, pace.finished)), startable.rounded(.down)))
    }

    /// The free slots the fetcher waits for before its next claim. After a full claim: a batch,
    /// but at most half of `capacity` (handler slots plus buffer), so slow jobs never leave
    /// executors idle until every slot is free; a claim round trip costs about the same at 250
    /// jobs as at 500, so claiming one job per finished job would waste round trips. Half a
    /// batch (branch fast3) made a third of a default drain's claims ~260 jobs: the fetcher
    /// looked right after a claim, while that claim's jobs still held their slots. With a buffer
    /// of two batches a whole batch is free then, so the next claim starts as soon as the last
    /// returns, and carries a batch (scripts/bench.d/NOTES.md part 5). Otherwise 1.
    static func claimLowWater(batch: Int, capacity: Int, afterFullClaim: Bool) -> Int {
        afterFullClaim ? max(1, min(batch, capacity / 2)) : 1
    }
}

/// An exponentially weighted mean of handler run times: recent jobs count most, so the buffer
/// follows a queue whose jobs change from fast to slow within a few dozen jobs.
struct HandlerPace: Sendable {
    private(set) var meanSeconds: Double?
    /// Runs recorded (saturates; only compared with a batch size).
    private(set) var finished = 0
    /// Weight of the newest run: ~20 runs make up most of the mean.
    static let weight = 0.1

    init() {}

    /// A pace as if `finished` runs had taken `meanSeconds` each (tests).
    init(meanSeconds: Double, finished: Int) {
        self.meanSeconds = meanSeconds
        self.finished = finished
    }

    mutating func record(seconds: Double) {
        meanSeconds = meanSeconds.map { $0 + Self.weight * (seconds - $0) } ?? seconds
        if finished < Int.max { finished += 1 }
    }
}

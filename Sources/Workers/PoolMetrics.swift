import Foundation
import QueuetopMetrics
import Synchronization

// The pool's instrumentation points, in one place so the loops carry one call each: every
// recording goes through `configuration.metrics`, and each is a no-op when it is nil (the
// default: `queuetop worker` without --metrics-listen, the dashboard's embedded pool).
extension WorkerPool {
    var metrics: WorkerMetrics? { configuration.metrics }

    enum RoundTrip { case claim, write }

    /// Starts timing one round trip (a claim_jobs call; a write of finished jobs, complete_jobs
    /// and fail_jobs together); call the result when it returns or throws.
    func startTiming(_ trip: RoundTrip) -> () -> Void {
        guard let metrics else { return {} }
        let started = DispatchTime.now().uptimeNanoseconds
        return {
            let nanoseconds = Int64(DispatchTime.now().uptimeNanoseconds - started)
            switch trip {
            case .claim: metrics.claimRoundTrip(nanoseconds: nanoseconds)
            case .write: metrics.completeRoundTrip(nanoseconds: nanoseconds)
            }
        }
    }

    func timed<T>(_ trip: RoundTrip, _ body: () throws -> T) rethrows -> T {
        let timing = startTiming(trip)
        defer { timing() }
        return try body()
    }

    func recordClaimed(_ jobs: [WorkerJob]) {
        guard let metrics, !jobs.isEmpty else { return }
        metrics.claimed(jobs.map { ($0.queue, $0.type) })
    }

    func recordFinished(_ job: WorkerJob, outcome: JobOutcome, nanoseconds: UInt64) {
        guard let metrics else { return }
        let kind: WorkerMetrics.Outcome
        switch outcome {
        case .completed, .completedWithResult: kind = .completed
        case let .failed(failure): kind = job.failsForGood(failure) ? .deadLetter : .retry
        }
        metrics.finished(queue: job.queue, type: job.type, outcome: kind, nanoseconds: Int64(clamping: nanoseconds))
    }

    /// A `ManagedConnection` setup step that counts every link after the first as a reconnect.
    func reconnectCounter() -> @Sendable () -> Void {
        let links = LinkCount()
        let metrics = self.metrics
        return { if links.next() > 1 { metrics?.reconnected() } }
    }

    /// Sets the gauges that describe the pool now; the metrics endpoint calls it before each render.
    public func publishMetrics() {
        guard let metrics else { return }
        let now = snapshot()
        metrics.update(WorkerMetrics.PoolState(
            concurrency: configuration.concurrency, inFlight: now.inFlight, running: now.running,
            unwrittenResults: ledger.unwrittenResults,
            breakers: Dictionary(now.queues.map { ($0.name, $0.breaker) }, uniquingKeysWith: { a, _ in a })))
    }
}

extension WorkerJob {
    /// Whether this failure ends the job in the DLQ: not retryable, or its last attempt.
    func failsForGood(_ failure: HandlerFailure) -> Bool { !failure.retryable || attempt >= maxAttempts }
}

private final class LinkCount: Sendable {
    private let count = Mutex(0)
    func next() -> Int { count.withLock { $0 += 1; return $0 } }
}

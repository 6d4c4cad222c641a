import Foundation

/// A demo handler whose latency and error mix come from the payload, so `queuetop demo` can show
/// a realistic queue without any external service:
///
///     {"latency_ms": {"p50": 40, "p99": 400}, "errors": {"smtp_error": 0.03, "rate_limited": 0.02,
///      "timeout": 0.01, "invalid_payload": 0.005}, "retry_after_s": 30}
///
/// Latency is log-normal with the given median and 99th percentile (capped at `max_ms`, default
/// 10 s). Every field is optional; an empty payload completes after ~20 ms.
public struct SimulateHandler: JobHandler {
    public static let errorTypes = ["smtp_error", "rate_limited", "timeout", "invalid_payload"]

    public init() {}
    public var kind: String { "simulate" }

    public func handle(_ context: JobContext) -> JobOutcome {
        guard let payload = JSONSupport.parseObject(context.job.payload) else {
            return .failed(.invalidPayload("simulate expects a JSON object"))
        }
        let latency = payload["latency_ms"] as? [String: Any] ?? [:]
        let p50 = max(0, number(latency["p50"]) ?? 20)
        let p99 = max(p50, number(latency["p99"]) ?? p50 * 3)
        let cap = number(payload["max_ms"]) ?? 10_000
        let delayMs = min(cap, Self.logNormal(median: p50, p99: p99))
        sleepCancellable(milliseconds: delayMs, cancellation: context.cancellation)

        let errors = payload["errors"] as? [String: Any] ?? [:]
        var roll = Double.random(in: 0..<1)
        for type in Self.errorTypes {
            let probability = number(errors[type]) ?? 0
            if roll < probability { return .failed(failure(type, payload: payload)) }
            roll -= probability
        }
        return .completed
    }

    private func failure(_ type: String, payload: [String: Any]) -> HandlerFailure {
        switch type {
        case "smtp_error":
            return HandlerFailure(message: "simulated SMTP error: 451 temporary local problem",
                              errorType: type, retryable: true)
        case "rate_limited":
            let after = Int(number(payload["retry_after_s"]) ?? 30)
            return HandlerFailure(message: "simulated rate limit", errorType: type,
                              details: ["retry_after_s": after], retryable: true, retryAfterSeconds: after)
        case "timeout":
            return HandlerFailure(message: "simulated timeout", errorType: type, retryable: true)
        default:
            return .invalidPayload("simulated invalid payload")
        }
    }

    /// Median `median`, 99th percentile `p99` (z(0.99) = 2.326).
    static func logNormal(median: Double, p99: Double) -> Double {
        guard median > 0 else { return 0 }
        let sigma = log(max(p99, median) / median) / 2.326
        // Box–Muller: one standard normal sample.
        let u1 = Double.random(in: Double.ulpOfOne..<1), u2 = Double.random(in: 0..<1)
        let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        return median * exp(sigma * z)
    }
}

func number(_ value: Any?) -> Double? {
    switch value {
    case let v as Double: return v
    case let v as Int: return Double(v)
    case let v as NSNumber: return v.doubleValue
    case let v as String: return Double(v)
    default: return nil
    }
}

/// Sleeps in short slices so a cancelled job stops promptly.
func sleepCancellable(milliseconds: Double, cancellation: CancellationFlag) {
    let deadline = Date().addingTimeInterval(milliseconds / 1000)
    while !cancellation.isCancelled {
        let left = deadline.timeIntervalSinceNow
        if left <= 0 { return }
        usleep(useconds_t(min(left, 0.05) * 1_000_000))
    }
}

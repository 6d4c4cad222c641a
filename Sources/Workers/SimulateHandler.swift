import Foundation

/// A demo handler whose latency and error mix come from its worker config (and, field by field,
/// from the payload, which wins), so `queuetop demo` can show a realistic queue without any
/// external service while its payloads stay shaped like real messages:
///
///     "handlers": {"send_email": {"kind": "simulate", "latency_ms": {"p50": 120, "p99": 900},
///                                 "errors": {"smtp_error": 0.05}}}
///
/// The same fields in a payload (for a one-off job, or a test):
///
///     {"latency_ms": {"p50": 40, "p99": 400},
///      "errors": {"smtp_error": 0.03, "rate_limited": 0.02, "ai_timeout": 0.01,
///                 "quota_exceeded": {"p": 0.01, "message": "402 quota exceeded", "retryable": false,
///                                    "retry_after_s": 60}},
///      "retry_after_s": 30, "result": {"synced": 42}}
///
/// Any error type may be named: its value is the probability of that error on one attempt, or
/// an object with the probability `p` and optional `message`, `retryable` (default true, except
/// `invalid_payload`) and `retry_after_s` (default: the top-level `retry_after_s` for
/// `rate_limited`, none otherwise). Latency is log-normal with the given median and 99th
/// percentile (capped at `max_ms`, default 10 s). Every field is optional; an empty payload
/// completes after ~20 ms. `result`, if present, is returned as the job's result. A `message`
/// may hold `{n:LOW-HIGH}`, replaced by a random whole number in that range on each failure, so
/// one error reads differently every time ("timeout after 30412 ms for order 81723"), as
/// free-text failures do.
public struct SimulateHandler: JobHandler {
    /// The fields a config may set (and a payload may override).
    public static let settingKeys = ["latency_ms", "errors", "retry_after_s", "max_ms", "result"]

    /// The config's settings as JSON text (Sendable; parsed per job, a few hundred bytes).
    let defaultsJSON: String?

    public init(defaults: String? = nil) { defaultsJSON = defaults }
    public var kind: String { "simulate" }

    public func handle(_ context: JobContext) -> JobOutcome {
        guard var payload = JSONSupport.parseObject(context.job.payload) else {
            return .failed(.invalidPayload("simulate expects a JSON object"))
        }
        if let defaultsJSON, let defaults = JSONSupport.parseObject(defaultsJSON) {
            for (key, value) in defaults where payload[key] == nil { payload[key] = value }
        }
        let latency = payload["latency_ms"] as? [String: Any] ?? [:]
        let p50 = max(0, number(latency["p50"]) ?? 20)
        let p99 = max(p50, number(latency["p99"]) ?? p50 * 3)
        let cap = number(payload["max_ms"]) ?? 10_000
        let delayMs = min(cap, Self.logNormal(median: p50, p99: p99))
        sleepCancellable(milliseconds: delayMs, cancellation: context.cancellation)

        let errors = payload["errors"] as? [String: Any] ?? [:]
        var roll = Double.random(in: 0..<1)
        // Sorted, so a given roll always picks the same type: the mix is reproducible in tests.
        for (type, spec) in errors.sorted(by: { $0.key < $1.key }) {
            let probability = Self.probability(spec)
            if roll < probability { return .failed(Self.failure(type, spec: spec, payload: payload)) }
            roll -= probability
        }
        // A "result" in the payload is what the simulated work returns (stored on the job).
        if let result = payload["result"],
           let data = try? JSONSerialization.data(withJSONObject: result, options: [.fragmentsAllowed, .sortedKeys]) {
            return .completedWithResult(String(decoding: data, as: UTF8.self))
        }
        return .completed
    }

    /// A bare number, or `p` of an object; anything else (a typo, a negative) means never.
    static func probability(_ spec: Any) -> Double {
        let value = number(spec) ?? number((spec as? [String: Any])?["p"]) ?? 0
        return value.isFinite ? max(0, value) : 0
    }

    /// Messages that read like the real failure for the types the seeds name; any other type
    /// gets a generic one.
    static let defaultMessages = [
        "smtp_error": "simulated SMTP error: 451 temporary local problem",
        "rate_limited": "simulated rate limit: 429 too many requests",
        "timeout": "simulated timeout",
        "ai_timeout": "simulated AI timeout: the model did not answer within 30 s",
        "invalid_payload": "invalid payload: simulated invalid payload",
    ]

    static func failure(_ type: String, spec: Any, payload: [String: Any]) -> HandlerFailure {
        let options = spec as? [String: Any] ?? [:]
        let message = expand(options["message"] as? String ?? defaultMessages[type] ?? "simulated \(type)")
        let retryable = options["retryable"] as? Bool ?? (type != "invalid_payload")
        let after = number(options["retry_after_s"]) ?? (type == "rate_limited" ? number(payload["retry_after_s"]) ?? 30 : nil)
        let seconds = after.map { Int(max(0, min($0, 86_400))) }
        return HandlerFailure(message: message, errorType: type,
                              details: seconds.map { ["retry_after_s": $0] } ?? [:],
                              retryable: retryable, retryAfterSeconds: seconds)
    }

    /// `{n:LOW-HIGH}` becomes a random whole number from LOW to HIGH; anything else stays.
    public static func expand(_ template: String) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{n:") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstIndex(of: "}") else { out += rest[open.lowerBound...]; return out }
            let bounds = after[..<close].split(separator: "-", maxSplits: 1).compactMap { Int($0) }
            if bounds.count == 2, bounds[0] <= bounds[1] {
                out += String(Int.random(in: bounds[0]...bounds[1]))
            } else {
                out += rest[open.lowerBound...close]
            }
            rest = after[after.index(after: close)...]
        }
        return out + rest
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

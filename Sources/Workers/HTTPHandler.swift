import Foundation
import Postgres
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// POSTs `{id, queue, type, attempt, payload}` as JSON to a URL — how the seeds' Edge Functions
/// (process-queue, sync-store, campaign-process-queue) get driven.
///
/// URLSession is used because on Linux it is libcurl underneath, which brings HTTPS, proxies and
/// HTTP/2 for free; the handler adds a hard overall deadline on top of libcurl's own timeout.
///
/// | response                   | outcome                              | error_type       |
/// |----------------------------|--------------------------------------|------------------|
/// | 2xx                        | completed                            | –                |
/// | 429, 503                   | retry, not before Retry-After        | rate_limited     |
/// | other 5xx                  | retry                                | http_5xx         |
/// | refused / reset / DNS      | retry                                | connection_error |
/// | no answer within timeout   | retry                                | timeout          |
/// | other 4xx (and 1xx/3xx)    | DLQ                                  | http_4xx         |
public final class HTTPHandler: JobHandler, Sendable, CustomStringConvertible, CustomReflectable {
    public let url: URL
    public let timeout: TimeInterval
    /// Header values, secrets already resolved from the environment. Never logged.
    private let headers: [String: String]
    private let session: URLSession
    /// Body bytes kept in error_details.
    public static let snippetLimit = 2048

    public init(url: URL, timeout: TimeInterval, headers: [String: String] = [:]) {
        self.url = url
        self.timeout = timeout
        self.headers = headers
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.urlCache = nil
        self.session = URLSession(configuration: configuration)
    }

    public var kind: String { "http" }

    /// Header names only, never values (they carry resolved secrets), also under reflection.
    public var description: String {
        "http POST \(Self.shown(url)) (timeout \(Int(timeout)) s, headers \(headers.keys.sorted().joined(separator: ",")))"
    }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }

    public func handle(_ context: JobContext) -> JobOutcome {
        let job = context.job
        guard JSONSupport.parseObject(job.payload) != nil || isJSONValue(job.payload) else {
            return .failed(.invalidPayload("payload is not valid JSON"))
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        // The job's W3C trace context, when its payload carries a valid one (TraceContext.swift).
        if let trace = TraceContext.of(payload: job.payload) {
            request.setValue(trace.traceparent, forHTTPHeaderField: "traceparent")
            if let state = trace.tracestate { request.setValue(state, forHTTPHeaderField: "tracestate") }
        }
        request.httpBody = Data(Self.body(for: job).utf8)

        let result = Mutex<(Data?, URLResponse?, (any Error)?)?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            result.withLock { $0 = (data, response, error) }
            done.signal()
        }
        let started = Date()
        task.resume()
        // Wait in slices: a hard deadline even if libcurl's own timer misbehaves, and a prompt
        // stop when the job is cancelled (worker shutdown, or an operator): the request is aborted.
        while done.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if context.cancellation.isCancelled || Date().timeIntervalSince(started) > timeout + 1 {
                task.cancel()
                _ = done.wait(timeout: .now() + .seconds(2))
                if context.cancellation.isCancelled {
                    return .failed(StoppedEarly.failure(context.cancellation.reason, what: "POST \(Self.shown(url))",
                                                        details: ["url": Self.shown(url)]))
                }
                return .failed(timeoutFailure())
            }
        }
        let (data, response, error) = result.withLock { $0 } ?? (nil, nil, nil)
        if let error { return .failed(classify(error)) }
        guard let http = response as? HTTPURLResponse else {
            return .failed(HandlerFailure(message: "no HTTP response from \(Self.shown(url))",
                                      errorType: "connection_error", retryable: true))
        }
        return Self.outcome(status: http.statusCode,
                            retryAfter: http.value(forHTTPHeaderField: "Retry-After"),
                            body: data.map { String(decoding: $0, as: UTF8.self) } ?? "",
                            url: url)
    }

    /// The status-code table above, separated from I/O so it is tested directly.
    static func outcome(status: Int, retryAfter: String?, body: String, url: URL, now: Date = Date()) -> JobOutcome {
        if (200..<300).contains(status) { return .completed(output: body) }
        var details: [String: any Sendable] = ["status": status, "url": shown(url),
                                               "body": JSONSupport.snippet(body, limit: snippetLimit)]
        switch status {
        case 429, 503:
            let after = retryAfter.flatMap { parseRetryAfter($0, now: now) }
            if let retryAfter { details["retry_after"] = retryAfter }
            return .failed(HandlerFailure(message: "HTTP \(status) from \(url.host ?? shown(url)): rate limited",
                                      errorType: "rate_limited", details: details,
                                      retryable: true, retryAfterSeconds: after))
        case 500..<600:
            return .failed(HandlerFailure(message: "HTTP \(status) from \(url.host ?? shown(url))",
                                      errorType: "http_5xx", details: details, retryable: true))
        default:
            return .failed(HandlerFailure(message: "HTTP \(status) from \(url.host ?? shown(url))",
                                      errorType: "http_4xx", details: details, retryable: false))
        }
    }

    /// Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
    static func parseRetryAfter(_ value: String, now: Date = Date()) -> Int? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) {
                return max(0, Int(date.timeIntervalSince(now).rounded(.up)))
            }
        }
        return nil
    }

    private func timeoutFailure() -> HandlerFailure {
        HandlerFailure(message: "no response from \(url.host ?? Self.shown(url)) within \(Int(timeout)) s",
                   errorType: "timeout", details: ["url": Self.shown(url), "timeout_s": timeout], retryable: true)
    }

    private func classify(_ error: any Error) -> HandlerFailure {
        let code = (error as? URLError)?.code
        if code == .timedOut { return timeoutFailure() }
        if code == .cancelled {
            return HandlerFailure(message: "request cancelled", errorType: "cancelled", retryable: true)
        }
        // Refused, reset, DNS and TLS failures all say "the service is not reachable now".
        // Foundation's error text carries the failing URL, userinfo and all: redact it too.
        return HandlerFailure(message: "cannot reach \(url.host ?? Self.shown(url)): \(redactingURLCredentials(error.localizedDescription))",
                          errorType: "connection_error",
                          details: ["url": Self.shown(url), "error": redactingURLCredentials(String(describing: error))],
                          retryable: true)
    }

    /// The URL as anything outside this process sees it (error_details, messages, logs):
    /// `user:password@` replaced by `***@`. Only the request itself uses `url` as configured.
    static func shown(_ url: URL) -> String { redactingURLCredentials(url.absoluteString) }

    static func body(for job: WorkerJob) -> String {
        "{\"id\":\(quote(job.id.text)),\"queue\":\(quote(job.queue)),\"type\":\(quote(job.type)),"
            + "\"attempt\":\(job.attempt),\"payload\":\(job.payload.isEmpty ? "null" : job.payload)}"
    }

    private static func quote(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }

    private func isJSONValue(_ text: String) -> Bool {
        guard let data = text.data(using: .utf8) else { return false }
        return (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil
    }
}

import Foundation
import Testing
import QueueStore
@testable import Workers

private func job(_ payload: String = "{\"to\":\"a@b.c\"}", type: String = "t") -> JobContext {
    JobContext(job: WorkerJob(id: JobID("0190a4d2-0000-7000-8000-000000000001")!, queue: "q", type: type, payload: payload, attemptCount: 2))
}

private func failure(_ outcome: JobOutcome) -> HandlerFailure? {
    if case let .failed(f) = outcome { return f }
    return nil
}

@Suite("http handler against a loopback server")
struct HTTPHandlerTests {
    let server: LoopbackHTTPServer
    init() throws { server = try LoopbackHTTPServer() }

    @Test func twoHundredCompletesWithTheBodyAsResultAndPostsTheJob() throws {
        let handler = HTTPHandler(url: server.url("/ok"), timeout: 5, headers: ["Authorization": "Bearer s3cret"])
        #expect(handler.handle(job()) == .completedWithResult(#"{"ok":true}"#))
        let body = try #require(server.bodies.last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(object["id"] as? String == "0190a4d2-0000-7000-8000-000000000001")
        #expect(object["attempt"] as? Int == 3)
        #expect((object["payload"] as? [String: Any])?["to"] as? String == "a@b.c")
    }

    @Test func aValidTraceparentInThePayloadMetaIsForwarded() throws {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let payload = #"{"to":"a@b.c","_meta":{"traceparent":"\#(parent)","tracestate":"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}}"#
        #expect(HTTPHandler(url: server.url("/ok"), timeout: 5).handle(job(payload)) == .completedWithResult(#"{"ok":true}"#))
        let request = try #require(server.requests.last)
        #expect(request.headers["traceparent"] == parent)
        #expect(request.headers["tracestate"] == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
    }

    @Test(arguments: [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\\r\\nX-Injected: 1",  // header injection (CR LF once the JSON is decoded)
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase hex
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 with more fields
        "garbage",
    ])
    func aMalformedTraceparentIsDroppedNotForwarded(parent: String) throws {
        let payload = #"{"_meta":{"traceparent":"\#(parent)","tracestate":"rojo=1"}}"#
        #expect(HTTPHandler(url: server.url("/ok"), timeout: 5).handle(job(payload)) == .completedWithResult(#"{"ok":true}"#))
        let request = try #require(server.requests.last)
        #expect(request.headers["traceparent"] == nil && request.headers["tracestate"] == nil, "\(request.headers)")
        #expect(request.headers["x-injected"] == nil)
    }

    /// An uppercase key and a value with `=`: printable, so only our check can refuse it.
    @Test func aMalformedTracestateIsDroppedAndTheTraceparentKept() throws {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let payload = #"{"_meta":{"traceparent":"\#(parent)","tracestate":"Rojo=1,x=a=b"}}"#
        #expect(HTTPHandler(url: server.url("/ok"), timeout: 5).handle(job(payload)) == .completedWithResult(#"{"ok":true}"#))
        let request = try #require(server.requests.last)
        #expect(request.headers["traceparent"] == parent && request.headers["tracestate"] == nil, "\(request.headers)")
    }

    @Test func tooManyRequestsRetriesAfterRetryAfter() throws {
        let f = try #require(failure(HTTPHandler(url: server.url("/429"), timeout: 5).handle(job())))
        #expect(f.errorType == "rate_limited" && f.retryable && f.retryAfterSeconds == 7)
    }

    @Test func serviceUnavailableWithAnHTTPDate() throws {
        let f = try #require(failure(HTTPHandler(url: server.url("/503-date"), timeout: 5).handle(job())))
        #expect(f.errorType == "rate_limited" && f.retryable)
        #expect((115...121).contains(f.retryAfterSeconds ?? 0))
    }

    @Test func serverErrorRetriesWithABoundedSnippet() throws {
        let f = try #require(failure(HTTPHandler(url: server.url("/500"), timeout: 5).handle(job())))
        #expect(f.errorType == "http_5xx" && f.retryable)
        #expect(f.detailsJSON.utf8.count < 3000)  // the 10 kB body was cut
    }

    @Test func notFoundGoesToTheDLQ() throws {
        let f = try #require(failure(HTTPHandler(url: server.url("/404"), timeout: 5).handle(job())))
        #expect(f.errorType == "http_4xx" && !f.retryable)
        #expect(f.detailsJSON.contains("no such function"))
    }

    @Test func slowAnswerTimesOut() throws {
        let started = Date()
        let f = try #require(failure(HTTPHandler(url: server.url("/slow"), timeout: 1).handle(job())))
        #expect(f.errorType == "timeout" && f.retryable)
        #expect(Date().timeIntervalSince(started) < 3.5)
    }

    @Test func refusedConnectionRetries() throws {
        let url = URL(string: "http://127.0.0.1:\(LoopbackHTTPServer.refusedPort())/ok")!
        let f = try #require(failure(HTTPHandler(url: url, timeout: 5).handle(job())))
        #expect(f.errorType == "connection_error" && f.retryable)
    }

    @Test func resetConnectionRetries() throws {
        let f = try #require(failure(HTTPHandler(url: server.url("/reset"), timeout: 5).handle(job())))
        #expect(f.errorType == "connection_error" && f.retryable)
    }

    @Test func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(HTTPHandler.parseRetryAfter("120") == 120)
        #expect(HTTPHandler.parseRetryAfter("Sun, 06 Nov 1994 08:50:37 GMT", now: now) == 60)
        #expect(HTTPHandler.parseRetryAfter("soon") == nil)
    }
}

@Suite("command handler")
struct CommandHandlerTests {
    func run(_ script: String, timeout: TimeInterval = 5, payload: String = "{\"n\":1}") -> JobOutcome {
        CommandHandler(argv: ["/bin/sh", "-c", script], timeout: timeout).handle(job(payload))
    }

    @Test func exitZeroCompletesAndReadsThePayload() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-cmd-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("seen").path
        #expect(run("cat > '\(out)'; echo \"$QUEUETOP_ATTEMPT\" >> '\(out)'") == .completed)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "{\"n\":1}3\n")
    }

    @Test func exitSeventyFiveRetries() throws {
        let f = try #require(failure(run("echo 'upstream busy' >&2; exit 75")))
        #expect(f.errorType == "command_tempfail" && f.retryable)
        #expect(f.detailsJSON.contains("upstream busy"))
    }

    @Test func otherExitCodesGoToTheDLQWithStderrTail() throws {
        let f = try #require(failure(run("i=0; while [ $i -lt 3000 ]; do echo line$i >&2; i=$((i+1)); done; exit 3")))
        #expect(f.errorType == "command_failed" && !f.retryable)
        #expect(f.detailsJSON.contains("line2999"))
        #expect(!f.detailsJSON.contains("line10\\n"))  // only the tail is kept
        #expect(f.message.contains("exited with 3"))
    }

    @Test func timeoutKillsTheWholeProcessGroup() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("qt-grandchild-\(UUID())").path
        let started = Date()
        let f = try #require(failure(run("(sleep 3; touch '\(marker)') & sleep 30", timeout: 0.5)))
        #expect(f.errorType == "timeout" && f.retryable)
        #expect(Date().timeIntervalSince(started) < 3)
        Thread.sleep(forTimeInterval: 3.5)
        #expect(!FileManager.default.fileExists(atPath: marker))  // the grandchild died with the group
    }

    @Test func bigPayloadAndChattyChildDoNotDeadlock() {
        let payload = "{\"blob\":\"" + String(repeating: "a", count: 1_000_000) + "\"}"
        #expect(run("head -c 200000 /dev/zero >&2; cat > /dev/null", payload: payload) == .completed)
    }
}

@Suite("simulate, noop, handler table")
struct SimpleHandlerTests {
    @Test func simulateProducesTheConfiguredErrors() throws {
        let always = #"{"latency_ms":{"p50":0},"errors":{"rate_limited":1},"retry_after_s":9}"#
        let f = try #require(failure(SimulateHandler().handle(job(always))))
        #expect(f.errorType == "rate_limited" && f.retryAfterSeconds == 9)
        #expect(SimulateHandler().handle(job(#"{"latency_ms":{"p50":1}}"#)) == .completed)
        #expect(failure(SimulateHandler().handle(job("[1,2]")))?.errorType == "invalid_payload")
    }

    @Test func simulateFailsWithAnyErrorTypeThePayloadNames() throws {
        // A type the handler has never heard of, the seeds' ai_timeout, and the object form.
        let custom = try #require(failure(SimulateHandler().handle(job(#"{"latency_ms":{"p50":0},"errors":{"store_api_403":1}}"#))))
        #expect(custom.errorType == "store_api_403" && custom.retryable && custom.retryAfterSeconds == nil)
        #expect(custom.message.contains("store_api_403"))
        let ai = try #require(failure(SimulateHandler().handle(job(#"{"latency_ms":{"p50":0},"errors":{"ai_timeout":1.0}}"#))))
        #expect(ai.errorType == "ai_timeout" && ai.retryable)
        let spec = #"{"latency_ms":{"p50":0},"errors":{"quota":{"p":1,"message":"402 quota","retryable":false,"retry_after_s":7}}}"#
        let quota = try #require(failure(SimulateHandler().handle(job(spec))))
        #expect(quota.errorType == "quota" && quota.message == "402 quota" && !quota.retryable && quota.retryAfterSeconds == 7)
        let invalid = try #require(failure(SimulateHandler().handle(job(#"{"latency_ms":{"p50":0},"errors":{"invalid_payload":1}}"#))))
        #expect(invalid.errorType == "invalid_payload" && !invalid.retryable)
        // Probability 0, a negative or a non-number never fires.
        let never = #"{"latency_ms":{"p50":0},"errors":{"a":0,"b":-1,"c":"often","d":{"p":null}}}"#
        #expect(SimulateHandler().handle(job(never)) == .completed)
    }

    /// The demo's payloads carry only the message: latency and errors come from the handler's
    /// config, a payload's own fields still win, and `{n:LOW-HIGH}` makes free text.
    @Test func simulateReadsItsConfigAndThePayloadOverridesIt() throws {
        let configured = SimulateHandler(defaults: #"{"latency_ms":{"p50":0},"errors":{"error":{"p":1,"message":"timeout after {n:30000-30999} ms for order {n:10000-99999}"}}}"#)
        var messages = Set<String>()
        for _ in 0..<20 {
            let f = try #require(failure(configured.handle(job(#"{"to":"cliente7@example.com","subject":"Re: pedido #7"}"#))))
            #expect(f.errorType == "error")
            let parts = f.message.split(separator: " ")
            #expect(parts.count == 7 && (30000...30999).contains(Int(parts[2]) ?? 0) && (10000...99999).contains(Int(parts[6]) ?? 0),
                    "\(f.message)")
            messages.insert(f.message)
        }
        #expect(messages.count > 10, "every failure reads differently")
        #expect(configured.handle(job(#"{"to":"a@example.com","errors":{}}"#)) == .completed, "the payload's errors win")
        // Malformed tokens stay as they are.
        #expect(SimulateHandler.expand("a {n:9-1} b {n:x} c {n:3") == "a {n:9-1} b {n:x} c {n:3")
        #expect(SimulateHandler.expand("{n:5-5}{n:5-5}") == "55")
    }

    @Test func simulateSplitsAttemptsBetweenErrorTypesByTheirProbabilities() throws {
        let mix = #"{"latency_ms":{"p50":0},"errors":{"smtp_error":0.25,"custom_b":0.25}}"#
        var seen: [String: Int] = [:]
        for _ in 0..<2000 {
            let key = failure(SimulateHandler().handle(job(mix)))?.errorType ?? "completed"
            seen[key, default: 0] += 1
        }
        // Each share is 500 ± 4.3 standard deviations (sd ≈ 19.4): a real split, never flaky.
        for key in ["smtp_error", "custom_b"] { #expect((416...584).contains(seen[key] ?? 0), "\(key): \(seen)") }
        #expect((900...1100).contains(seen["completed"] ?? 0), "\(seen)")
    }

    @Test func unknownTypeGoesToTheDLQ() throws {
        let f = try #require(failure(HandlerTable().run(job(type: "mystery"))))
        #expect(f.errorType == "unknown_job_type" && !f.retryable)
        #expect(HandlerTable().run(job(type: "noop")) == .completed)
    }
}

@Suite("circuit breaker state machine")
struct CircuitBreakerTests {
    @Test func opensAfterThresholdThenProbes() {
        var breaker = CircuitBreaker(policy: CircuitBreakerPolicy(failureThreshold: 3, coolDown: 10))
        let t0 = Date()
        var changed: [Bool] = []
        changed.append(breaker.record(success: false, retryable: true, now: t0))
        changed.append(breaker.record(success: false, retryable: false, now: t0))  // bad data does not count
        changed.append(breaker.record(success: false, retryable: true, now: t0))
        changed.append(breaker.record(success: false, retryable: true, now: t0))
        #expect(changed == [false, false, false, true])
        #expect(breaker.state.name == "open")
        let during = breaker.permission(now: t0.addingTimeInterval(5))
        let after = breaker.permission(now: t0.addingTimeInterval(11))
        #expect(during == .none && after == .probeOne)
        breaker.probeClaimed()
        let whileProbing = breaker.permission(now: t0.addingTimeInterval(12))
        #expect(whileProbing == .none)
        let reopened = breaker.record(success: false, retryable: true, now: t0.addingTimeInterval(12))
        #expect(reopened && breaker.state.name == "open")  // the probe failed: open again
        let probeAgain = breaker.permission(now: t0.addingTimeInterval(23))
        #expect(probeAgain == .probeOne)
        breaker.probeClaimed()
        let closed = breaker.record(success: true, retryable: false, now: t0.addingTimeInterval(23))
        let finally = breaker.permission(now: t0.addingTimeInterval(23))
        #expect(closed && finally == .claim)
    }
}

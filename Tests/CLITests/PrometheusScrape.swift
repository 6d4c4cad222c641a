import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport

/// One scrape of a `/metrics` endpoint over real HTTP (URLSession), its text checked and parsed
/// by the reference parser of `prometheus_client` (scripts/lib/prom-parse.py).
struct PrometheusScrape {
    struct Sample: Decodable, Sendable {
        var family: String
        var type: String
        var name: String
        var labels: [String: String]
        var value: Double?
    }

    var status: Int
    var contentType: String
    var text: String
    var samples: [Sample]

    /// The value of the one sample named `name` whose labels include `labels`; nil when none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        matching(name, labels).first?.value ?? nil
    }

    /// The sum over every sample named `name` whose labels include `labels`.
    func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        matching(name, labels).reduce(0) { $0 + ($1.value ?? 0) }
    }

    func matching(_ name: String, _ labels: [String: String]) -> [Sample] {
        samples.filter { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
    }

    /// Metric names in this scrape that docs/OBSERVABILITY.md does not describe (as `` `name` ``).
    func undocumentedNames() throws -> [String] {
        let doc = try String(contentsOf: Self.root.appendingPathComponent("docs/OBSERVABILITY.md"), encoding: .utf8)
        let names = Set(samples.map { $0.type == "counter" ? $0.family + "_total" : $0.family })
        return names.filter { !doc.contains("`\($0)`") }.sorted()
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// GETs `url`; throws when the request fails or the body is not valid Prometheus text.
    static func get(_ url: URL, timeout: Double = 30) throws -> PrometheusScrape {
        let (status, contentType, body) = try fetch(url, timeout: timeout)
        return PrometheusScrape(status: status, contentType: contentType, text: body, samples: try parse(body))
    }

    /// URLSession.shared opens at most 6 connections per host; the concurrent-scrape test needs more.
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 32
        return URLSession(configuration: configuration)
    }()

    static func fetch(_ url: URL, timeout: Double) throws -> (Int, String, String) {
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            box.set(data: data, response: response as? HTTPURLResponse, error: error)
            done.signal()
        }.resume()
        done.wait()
        let (data, response, error) = box.get()
        guard let response, let data else { throw ScrapeError("GET \(url): \(error.map { "\($0)" } ?? "no response")") }
        return (response.statusCode, response.value(forHTTPHeaderField: "Content-Type") ?? "",
                String(decoding: data, as: UTF8.self))
    }

    static func parse(_ text: String) throws -> [Sample] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("scripts/lib/prom-parse.py").path]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        DispatchQueue.global().async {
            input.fileHandleForWriting.write(Data(text.utf8))
            try? input.fileHandleForWriting.close()
        }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ScrapeError("prom-parse.py: \(String(decoding: err, as: UTF8.self))\n--- text ---\n\(text)")
        }
        let decoder = JSONDecoder()
        return try String(decoding: out, as: UTF8.self).split(separator: "\n").map {
            try decoder.decode(Sample.self, from: Data($0.utf8))
        }
    }

    /// Waits for the "metrics at http://…/metrics" line a queuetop process logs at start.
    static func endpoint(inLog log: String, timeout: Double = 30) throws -> URL {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"metrics at (http://\S+/metrics)"#, options: .regularExpression) {
                let line = String(text[range])
                return URL(string: String(line.dropFirst("metrics at ".count)))!
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ScrapeError("no \"metrics at\" line in \(log) after \(timeout) s: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// Scrapes until `condition` holds (or `timeout` passes, then returns the last scrape).
    static func until(_ url: URL, timeout: Double = 60, _ condition: (PrometheusScrape) -> Bool) throws -> PrometheusScrape {
        let deadline = Date().addingTimeInterval(timeout)
        var last = try get(url)
        while !condition(last) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            last = try get(url)
        }
        return last
    }
}

struct ScrapeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

private final class ResultBox: @unchecked Sendable {  // written once before the semaphore, read after
    private var data: Data?
    private var response: HTTPURLResponse?
    private var error: (any Error)?
    func set(data: Data?, response: HTTPURLResponse?, error: (any Error)?) {
        self.data = data; self.response = response; self.error = error
    }
    func get() -> (Data?, HTTPURLResponse?, (any Error)?) { (data, response, error) }
}

/// A `queuetop` process started for a test, stopped (SIGTERM, then SIGKILL) at the end.
final class RunningQueuetop {
    let process: Process
    let log: String

    init(_ arguments: [String], environment: [String: String], name: String) throws {
        log = NSTemporaryDirectory() + "queuetop-\(name)-\(UUID().uuidString.prefix(8)).log"
        process = try QueuetopBinary.start(arguments, environment: environment, stderrLog: log)
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func endpoint() throws -> URL { try PrometheusScrape.endpoint(inLog: log) }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    deinit { stop() }
}

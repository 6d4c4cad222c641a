import Foundation
import Testing
import TestSupport

/// `queuetop worker` refuses to start on a bad config, with one clear line and exit status 1.
@Suite("queuetop worker startup errors")
struct CLIStartupTests {
    func startWorker(config: String, env: [String: String] = [:]) throws -> (Int32, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qt-cfg-\(UUID()).json").path
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try QueuetopBinary.run(["worker", "--db", "postgresql://u:pw-should-not-show@127.0.0.1:1/none", "--config", path],
                                            environment: env, timeout: 20)
        return (result.status, result.stderr)
    }

    @Test func badConfigsFailBeforeConnecting() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)")
            return
        }
        let cases: [(String, String)] = [
            (#"{"handlers": "#, "is not valid JSON"),
            (#"{"handlers": {"x": {"kind": "ftp"}}}"#, "unknown handler kind \"ftp\""),
            (#"{"handlers": {"x": {"kind": "http", "url": "https://h.invalid/", "secret_headers": {"Authorization": "QT_NOPE"}}}}"#,
             "environment variable QT_NOPE"),
            (#"{"handlers": {"x": {"kind": "http", "url": "https://no-such-host.invalid/fn"}}}"#, "cannot resolve host no-such-host.invalid"),
        ]
        for (config, expected) in cases {
            let (status, stderr) = try startWorker(config: config)
            #expect(status == 1, "\(config)")
            #expect(stderr.contains(expected), "\(stderr)")
            #expect(!stderr.contains("pw-should-not-show"))
        }
    }

    /// `--rerun-window` (what a crash can run twice) must leave room for a handled result to
    /// wait for its write: more than --concurrency. A bad value is a usage error, before connecting.
    @Test func rerunWindowAtOrBelowConcurrencyIsRefused() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)")
            return
        }
        for arguments in [["--rerun-window", "10"], ["--concurrency", "40", "--rerun-window", "40"], ["--rerun-window", "0"],
                          ["--rerun-window", "-5"], ["--rerun-window", "20000000"]] {
            let result = try QueuetopBinary.run(["worker", "--db", "postgresql://u:pw-should-not-show@127.0.0.1:1/none"] + arguments,
                                                timeout: 20)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("--rerun-window"), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("pw-should-not-show"))
        }
    }
}

import Foundation
import TestSupport
import Testing

/// scripts/demo end to end, non-interactively: its own private cluster, the seed, the producer,
/// and the real dashboard (with its embedded worker pool) in tmux for 20 s; then Q, and nothing
/// may be left running.
@Suite struct DemoSmokeTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test(.timeLimit(.minutes(5)))
    func demoRunsTheWorkloadThroughTheDashboardAndLeavesNothingBehind() throws {
        let name = "smoke-\(UUID().uuidString.prefix(8).lowercased())"
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("queuetop-\(name)")
        defer { try? FileManager.default.removeItem(at: report) }

        let script = Self.repoRoot.appendingPathComponent("scripts/demo").path
        let run = try Script.run("/bin/bash", [script, "--for", "20"], environment: [
            "QUEUETOP_BIN": QueuetopBinary.path, "QUEUETOP_DEMO_NAME": name, "QUEUETOP_DEMO_REPORT": report.path,
        ], timeout: 240)
        #expect(run.status == 0, "scripts/demo failed:\n\(run.stderr.suffix(3000))")

        let before = try Report.json(report.appendingPathComponent("before.json"))
        let after = try Report.json(report.appendingPathComponent("after.json"))
        // Jobs completed while the demo ran (the seeded history is in `before`).
        #expect(Report.sum(after, "completed") > Report.sum(before, "completed"))
        #expect(Report.sum(after, "dead_letter") > 0)
        #expect(Report.leadsMoved(after) > Report.leadsMoved(before), "a lead migration progressed")
        let screen = try String(contentsOf: report.appendingPathComponent("screen.txt"), encoding: .utf8)
        for queue in ["emails", "store_sync", "campaigns"] {
            #expect(screen.contains(queue), "the dashboard showed \(queue):\n\(screen)")
        }
        // The seeded deploy marks are on the hourly chart (issue 22): its title carries the legend.
        #expect(screen.contains("▼ deploy ! alert") && screen.contains("completed/hour"), "chart marks:\n\(screen)")

        // Nothing left: no postmaster on the demo's cluster, no process holding its URL (the
        // dashboard, the producer), no tmux server of this run.
        let url = try String(contentsOf: report.appendingPathComponent("database_url"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let pgDir = try String(contentsOf: report.appendingPathComponent("pg_dir"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!url.isEmpty && !pgDir.isEmpty)
        let leftovers = Processes.matching { cmdline, environ in
            cmdline.contains(pgDir + "/") || environ.contains("DATABASE_URL=\(url)\n") || cmdline.contains("queuetop-\(name)")
        }
        #expect(leftovers.isEmpty, "still running: \(leftovers)")
        #expect(!FileManager.default.fileExists(atPath: pgDir), "the throwaway cluster is removed")
    }
}

/// Reads what scripts/demo wrote with QUEUETOP_DEMO_REPORT.
enum Report {
    static func json(_ url: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: url)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func sum(_ snapshot: [String: Any], _ status: String) -> Int {
        let queues = snapshot["queues"] as? [[String: Any]] ?? []
        return queues.reduce(0) { $0 + ((($1["counts"] as? [String: Any])?[status] as? NSNumber)?.intValue ?? 0) }
    }

    static func leadsMoved(_ snapshot: [String: Any]) -> Int {
        let runs = snapshot["lead_migrations"] as? [[String: Any]] ?? []
        return runs.reduce(0) { $0 + (($1["moved"] as? NSNumber)?.intValue ?? 0) }
    }
}

/// Every process whose command line or environment matches; what it could not read it skips.
enum Processes {
    static func matching(_ predicate: (String, String) -> Bool) -> [String] {
        let own = ProcessInfo.processInfo.processIdentifier
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? []
        return pids.filter { $0 != own }.compactMap { pid in
            // Both files separate their strings with NUL: the command line becomes words, the
            // environment one variable per line.
            func read(_ file: String, separator: UInt8) -> String {
                guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/\(file)") else { return "" }
                return String(decoding: data.map { $0 == 0 ? separator : $0 }, as: UTF8.self)
            }
            let cmdline = read("cmdline", separator: 0x20)
            let environ = read("environ", separator: 0x0A)
            return predicate(cmdline, environ) ? "\(pid): \(cmdline)" : nil
        }
    }
}

/// Runs a program to completion with extra environment, collecting its output.
enum Script {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String],
                    timeout: Double) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("qt-script-\(UUID()).out")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("qt-script-\(UUID()).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        // Files, not pipes: a chatty script can never stall on a full pipe.
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus,
                (try? String(contentsOf: out, encoding: .utf8)) ?? "", (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}

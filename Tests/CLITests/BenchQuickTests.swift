import Foundation
import TestSupport
import Testing

/// `scripts/bench --quick` still works end to end: its own cluster, the built binaries, every
/// section, and a report whose figures come from jobs that really ran. No timing is asserted
/// (these machines are noisy); a broken measurement shows up as a zero or a missing figure.
@Suite struct BenchQuickTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func quickBenchWritesAReportWithEveryFigure() throws {
        let report = FileManager.default.temporaryDirectory
            .appendingPathComponent("queuetop-bench-\(UUID().uuidString).md")
        defer { try? FileManager.default.removeItem(at: report) }
        // The binaries the suite was built with (debug, next to queuetop), not a fresh build.
        let binDir = URL(fileURLWithPath: QueuetopBinary.path).deletingLastPathComponent().path
        let (status, log) = try runScript(
            Self.root.appendingPathComponent("scripts/bench").path,
            ["--quick", "--out", report.path, "--name", "bench-test-\(getpid())", "--bin-dir", binDir],
            timeout: 600)
        #expect(status == 0, "scripts/bench --quick failed:\n\(log.suffix(3000))")
        let text = try String(contentsOf: report, encoding: .utf8)

        #expect(text.contains("## Targets"))
        for heading in ["## 1. Drain", "## 3. The raw-SQL limit", "## 5. Pickup", "## 2. Continuous",
                        "## 4. pgqueuer", "## 6. Dashboard refresh", "## 7. The dashboard process",
                        "## 8. Bulk requeue", "## 9. Lead migration", "## Fast by default", "## Job explorer at size"] {
            #expect(text.contains(heading), "missing section \(heading)")
        }
        // Drain figures are 0 unless every job was completed by the worker.
        let drain = tableRows(text, after: "## 1. Drain")
        #expect(drain.count == 2)
        for row in drain { #expect((Double(row.last ?? "") ?? 0) > 0, "drain row \(row)") }
        // Raw limit: 0 unless pgbench claimed and completed every job.
        let raw = tableRows(text, after: "## 3. The raw-SQL limit")
        #expect(!raw.isEmpty)
        for row in raw { #expect((Double(row.last ?? "") ?? 0) > 0, "raw row \(row)") }
        let pickup = tableRows(text, after: "## 5. Pickup")
        #expect((Double(pickup.first?.first ?? "") ?? 0) > 0, "pickup p50")
        // The dashboard really ran in a pty: it used CPU and memory (bytes may be near 0 when idle).
        let dashboard = tableRows(text, after: "## 7. The dashboard process")
        #expect(dashboard.count == 3, "dashboard rows \(dashboard)")
        if dashboard.count == 3 {
            #expect((Double(dashboard[2].last ?? "") ?? 0) > 0, "dashboard RSS \(dashboard)")
        }
        // Issue 19's cases: this build's defaults, tuned and simulate drains all finished (no
        // --before-bin-dir here, so only the "after" row).
        let defaults = tableRows(text, after: "## Fast by default")
        #expect(defaults.count == 1, "defaults rows \(defaults)")
        for cell in defaults.first?.dropFirst().prefix(3) ?? [] { #expect((Double(cell) ?? 0) > 0, "defaults row \(defaults)") }
        // Issue 18's explorer: the table was loaded, and every filter's first page answered
        // (no "timeout" or "error" cell at the quick size).
        let loads = tableRows(text, after: "## Job explorer at size")
        #expect(loads.count == 1 && (Double(loads.first?[1] ?? "") ?? 0) > 0, "search loads \(loads)")
        if let explorer = text.range(of: "## Job explorer at size") {
            let body = String(text[explorer.upperBound...]).components(separatedBy: "\n## ").first ?? ""
            #expect(!body.contains("| timeout") && !body.contains("| error"), "a search failed at the quick size")
        }
        let leads = tableRows(text, after: "## 9. Lead migration")
        #expect(leads.count == 2)
        for row in leads { #expect((Double(row.last ?? "") ?? 0) > 0, "leads row \(row)") }
    }

    /// The data rows (cells, thousands separators removed) of the first markdown table after `heading`.
    func tableRows(_ text: String, after heading: String) -> [[String]] {
        guard let start = text.range(of: heading) else { return [] }
        var rows: [[String]] = []
        var inTable = false
        for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { break }
            guard line.hasPrefix("|") else { if inTable { break }; continue }
            inTable = true
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "") }
            if cells.allSatisfy({ $0.allSatisfy { "-:".contains($0) } }) { continue }  // separator row
            if cells.contains(where: { Double($0) != nil }) { rows.append(cells) }
        }
        return rows
    }

    /// Runs a script with a deadline; returns its status and its combined output.
    func runScript(_ path: String, _ arguments: [String], timeout: Double) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DATABASE_URL")  // the bench makes its own cluster
        process.environment = env
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bench-log-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}

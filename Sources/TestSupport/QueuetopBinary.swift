import Foundation

/// The real `queuetop` executable, for tests that run it as a user would (CLI, worker processes,
/// the dashboard in tmux). `swift build --build-tests` puts it next to the test bundle;
/// `QUEUETOP_BIN` overrides.
public enum QueuetopBinary {
    public static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["QUEUETOP_BIN"], !explicit.isEmpty { return explicit }
        let runner = URL(fileURLWithPath: CommandLine.arguments.first ?? "",
                         relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        var dir = runner.deletingLastPathComponent()
        // The XCTest bundle on Linux is a folder (…/queuetopPackageTests.xctest) on some setups.
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("queuetop").standardizedFileURL.path
    }

    /// The binary with `arguments`, this process's environment without DATABASE_URL (a test
    /// chooses its database explicitly), plus `environment`.
    static func makeProcess(_ arguments: [String], environment: [String: String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DATABASE_URL")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        return process
    }

    /// Runs another program (ps, pgrep) to completion and returns its stdout, trimmed.
    public static func output(of program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts the binary in the background (a worker, say) with `environment` added to this
    /// process's (DATABASE_URL removed unless given), stderr appended to the file `stderrLog`,
    /// stdout to `stdoutLog` (discarded when nil). The caller stops it.
    public static func start(_ arguments: [String], environment: [String: String] = [:], stderrLog: String,
                             stdoutLog: String? = nil) throws -> Process {
        let process = makeProcess(arguments, environment: environment)
        func appending(to path: String) throws -> FileHandle {
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            handle.seekToEndOfFile()
            return handle
        }
        process.standardError = try appending(to: stderrLog)
        process.standardOutput = try stdoutLog.map(appending) ?? FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs the binary to completion and returns its exit status and output.
    public static func run(_ arguments: [String], environment: [String: String] = [:],
                           stdin: String? = nil, timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = makeProcess(arguments, environment: environment)
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        // Read both pipes while the process runs, so a chatty child cannot fill a pipe and stall.
        let collected = OutputCollector(out: out, err: err)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            // SIGTERM, then SIGKILL after 10 s: a child that ignores SIGTERM fails its test
            // (the caller sees the time it took) instead of hanging the suite.
            process.terminate()
            let grace = Date().addingTimeInterval(10)
            while process.isRunning && Date() < grace { Thread.sleep(forTimeInterval: 0.01) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        let (o, e) = collected.finish()
        return (process.terminationStatus, o, e)
    }
}

private final class OutputCollector: @unchecked Sendable {
    private let group = DispatchGroup()
    private var out = Data(), err = Data()

    init(out: Pipe, err: Pipe) {
        group.enter()
        DispatchQueue.global().async { self.out = out.fileHandleForReading.readDataToEndOfFile(); self.group.leave() }
        group.enter()
        DispatchQueue.global().async { self.err = err.fileHandleForReading.readDataToEndOfFile(); self.group.leave() }
    }

    func finish() -> (String, String) {
        group.wait()
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

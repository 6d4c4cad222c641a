import Foundation
import TestSupport

extension PoolFixture {
    /// Starts the real `queuetop worker` binary against `db` with `arguments` after `worker`,
    /// its stderr going to the file `log` (read it when a test fails).
    static func spawnWorker(_ db: TestDatabase, arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: QueuetopBinary.path)
        process.arguments = ["worker"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = db.conninfo
        process.environment = env
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }
}

import Foundation
import TestSupport

extension PoolFixture {
    /// Starts the real `queuetop worker` binary against `db` with `arguments` after `worker`,
    /// its stderr going to the file `log` (read it when a test fails).
    static func spawnWorker(_ db: TestDatabase, arguments: [String], log: String) throws -> Process {
        try QueuetopBinary.start(["worker"] + arguments, environment: ["DATABASE_URL": db.conninfo], stderrLog: log)
    }
}

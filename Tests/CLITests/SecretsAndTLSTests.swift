import Foundation
import Postgres
import TestSupport
import Testing

/// No password from a connection string in any output, error, log or `ps` listing; `sslmode`
/// in the URI is honoured.
@Suite struct SecretsAndTLSTests {
    /// The suite cluster's socket folder and TCP port (scripts/pg: the URL carries both).
    func server() throws -> (socket: String, port: String) {
        let url = ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
        let items = URLComponents(string: url)?.queryItems ?? []
        guard let socket = items.first(where: { $0.name == "host" })?.value,
              let port = items.first(where: { $0.name == "port" })?.value else {
            throw PostgresError(kind: .connection, message: "DATABASE_URL has no host/port query parameters: run under scripts/test")
        }
        return (socket, port)
    }

    /// A fresh secret per test, so a hit can only come from this test's own commands.
    func secret() -> String { "pw-\(UUID().uuidString.lowercased().prefix(18))" }

    @Test func aPasswordInTheURIAppearsInNoOutputOrError() throws {
        try TestDatabase.with { db in
            let (socket, port) = try server()
            let password = secret()
            // The socket trusts local connections, so the password is carried but not needed.
            let url = "postgresql://postgres:\(password)@/\(db.name)?host=\(socket)&port=\(port)"
            var captured = ""
            let commands: [[String]] = [
                ["migrate", "--status"], ["status"], ["queue", "list"], ["enqueue", "mail", "--type", "send"],
                ["dlq", "list"], ["dlq", "groups"], ["queue", "pause", "nosuch"], ["dlq", "requeue", "not-a-uuid"],
                ["queue", "set", "mail", "{\"max_attempts\": -1}"],
            ]
            for command in commands {
                let viaFlag = try QueuetopBinary.run(command + ["--db", url])
                let viaEnv = try QueuetopBinary.run(command, environment: ["DATABASE_URL": url])
                captured += viaFlag.stdout + viaFlag.stderr + viaEnv.stdout + viaEnv.stderr
            }
            // Errors while connecting: wrong password over TCP, unreachable port, bad option.
            for bad in ["postgresql://postgres:\(password)@127.0.0.1:\(port)/\(db.name)",
                        "postgresql://postgres:\(password)@127.0.0.1:1/\(db.name)",
                        "postgresql://postgres:\(password)@/\(db.name)?host=\(socket)&port=\(port)&sslmode=bogus",
                        "host=127.0.0.1 port=\(port) dbname=\(db.name) user=postgres password=\(password)"] {
                let r = try QueuetopBinary.run(["status", "--db", bad], timeout: 20)
                #expect(r.status != 0, "\(r.stdout)")
                #expect(!r.stderr.isEmpty)
                captured += r.stdout + r.stderr
            }
            #expect(captured.contains("mail"), "the commands ran")
            #expect(!captured.contains(password), "a password leaked into output")
        }
    }

    @Test func theWrongPasswordIsAClearErrorThatDoesNotEchoIt() throws {
        try TestDatabase.with { db in
            let (_, port) = try server()
            let password = secret()
            let r = try QueuetopBinary.run(["status", "--db", "postgresql://postgres:\(password)@127.0.0.1:\(port)/\(db.name)?sslmode=disable"],
                                           timeout: 20)
            #expect(r.status != 0)
            #expect(r.stderr.contains("password authentication failed"), "\(r.stderr)")
            #expect(!r.stderr.contains(password))
        }
    }

    @Test(arguments: ["uri", "conninfo"])
    func aWorkerStartedWithAPasswordOnTheCommandLineHidesItFromPs(form: String) throws {
        try TestDatabase.with { db in
            let (socket, port) = try server()
            let password = secret()
            let url = form == "uri" ? "postgresql://postgres:\(password)@/\(db.name)?host=\(socket)&port=\(port)"
                                    : "host=\(socket) port=\(port) dbname=\(db.name) user=postgres password=\(password)"
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("qt-ps-\(UUID()).log").path
            defer { try? FileManager.default.removeItem(atPath: log) }
            let worker = try QueuetopBinary.start(["worker", "--queues", "mail", "--db", url], stderrLog: log)
            defer {
                kill(worker.processIdentifier, SIGTERM)
                worker.waitUntilExit()
            }
            // Registered = connected with the real (unmasked) password.
            let conn = try db.connect()
            defer { conn.close() }
            var registered = false
            for _ in 0..<200 where !registered {
                registered = try conn.query("SELECT count(*)::int FROM workers").scalar(Int.self) == 1
                if !registered { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(registered, "the worker did not start: \(String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self))")
            let ps = try QueuetopBinary.output(of: "/bin/ps", ["-ww", "-o", "args=", "-p", String(worker.processIdentifier)])
            let cmdline = String(decoding: FileManager.default.contents(atPath: "/proc/\(worker.processIdentifier)/cmdline") ?? Data(),
                                 as: UTF8.self)
            #expect(ps.contains("worker --queues mail --db"), "\(ps)")
            #expect(ps.contains("postgres" + (form == "uri" ? ":" : " password=") + String(repeating: "*", count: password.count)), "\(ps)")
            #expect(!ps.contains(password) && !cmdline.contains(password))
            kill(worker.processIdentifier, SIGTERM)
            worker.waitUntilExit()
            #expect(worker.terminationStatus == 0)
            let logged = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
            #expect(logged.contains("started") && !logged.contains(password))
        }
    }

    @Test func sslmodeInTheURIIsHonoured() throws {
        try TestDatabase.with { db in
            let (_, port) = try server()
            // The test server has no TLS: `require` must fail on that, before any password is asked.
            let required = try QueuetopBinary.run(["status", "--db", "postgresql://postgres@127.0.0.1:\(port)/\(db.name)?sslmode=require"],
                                                  timeout: 20)
            #expect(required.status != 0)
            #expect(required.stderr.contains("SSL"), "\(required.stderr)")
            let verifyFull = try QueuetopBinary.run(["status", "--db", "postgresql://postgres@127.0.0.1:\(port)/\(db.name)?sslmode=verify-full&sslrootcert=/nonexistent/root.crt"],
                                                    timeout: 20)
            #expect(verifyFull.status != 0)
            #expect(verifyFull.stderr.contains("root.crt") || verifyFull.stderr.contains("SSL"), "\(verifyFull.stderr)")
            // `disable` gets past TLS to authentication: a different failure, so the mode was read.
            let disabled = try QueuetopBinary.run(["status", "--db", "postgresql://postgres@127.0.0.1:\(port)/\(db.name)?sslmode=disable"],
                                                  timeout: 20)
            #expect(disabled.status != 0)
            #expect(!disabled.stderr.contains("SSL"))
            #expect(disabled.stderr.contains("password"), "\(disabled.stderr)")
        }
    }
}

import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct ErrorTests {
    @Test func sqlErrorsCarrySQLStateMessageAndDetail() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            try conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
            try conn.execute("INSERT INTO t VALUES (1)")
            do {
                try conn.execute("INSERT INTO t VALUES (\(1))")
                Issue.record("duplicate key was accepted")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23505")
                #expect(error.message.contains("duplicate key"))
                #expect(error.detail?.contains("(id)=(1)") == true)
                #expect(!error.isConnectionProblem)
            }
            #expect(throws: PostgresError.self) { try conn.execute("SELEC 1") }
            // The connection stays usable after an error.
            let one: Int = try conn.query("SELECT 1").scalar()
            #expect(one == 1)
        }
    }

    @Test func hintIsReported() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            do {
                try conn.executeScript("DO $$ BEGIN RAISE EXCEPTION 'nope' USING ERRCODE = '22023', HINT = 'try again'; END $$")
                Issue.record("no error")
            } catch let error as PostgresError {
                #expect(error.sqlState == "22023")
                #expect(error.hint == "try again")
                #expect(error.description.contains("try again"))
            }
        }
    }

    @Test func wrongPasswordFailsNamingHostAndPortButNotThePassword() throws {
        try TestDatabase.with(migrated: false) { db in
            let admin = try db.connect()
            let role = "qt_pw_\(UUID().uuidString.prefix(8).lowercased())"
            try admin.executeScript("CREATE ROLE \(role) LOGIN PASSWORD 'right-password'")
            defer { _ = try? admin.executeScript("DROP ROLE IF EXISTS \(role)") }
            let port: String = try admin.query("SELECT current_setting('port')").scalar()
            let uri = "postgresql://\(role):sup3r-secret-pw@127.0.0.1:\(port)/\(db.name)"
            do {
                _ = try Connection.connect(try ConnectionConfig(uri))
                Issue.record("connected with a wrong password")
            } catch let error as PostgresError {
                #expect(error.kind == .connection)
                #expect(error.description.contains("127.0.0.1"))
                #expect(error.description.contains(port))
                #expect(!error.description.contains("sup3r-secret-pw"))
                #expect(!error.debugDescription.contains("sup3r-secret-pw"))
            }
            // And the right password works over TCP with scram-sha-256.
            let ok = try Connection.connect(try ConnectionConfig("postgresql://\(role):right-password@127.0.0.1:\(port)/\(db.name)"))
            #expect(ok.isConnected)
        }
    }

    @Test func unresponsiveHostFailsWithinTheConnectTimeout() throws {
        // A loopback listener that never speaks: libpq connects at the TCP level and then waits
        // for the server's answer, which never comes — the same as a host that drops packets.
        let listener = try SilentListener()
        defer { listener.close() }
        var config = try ConnectionConfig("postgresql://u:hunter2-secret@127.0.0.1:\(listener.port)/x")
        config.connectTimeoutSeconds = 2
        let started = Date()
        do {
            _ = try Connection.connect(config, environment: [:])
            Issue.record("connected to a silent listener")
        } catch let error as PostgresError {
            let elapsed = Date().timeIntervalSince(started)
            #expect(elapsed < 6, "took \(elapsed) s")
            #expect(error.description.contains("127.0.0.1:\(listener.port)"))
            #expect(!error.description.contains("hunter2-secret"))
        }
    }

    @Test func malformedURIIsRefusedBeforeConnectingWithoutEchoingIt() {
        do {
            _ = try ConnectionConfig("postgres://u:s3cret@[::1/x")
            Issue.record("accepted a malformed URI")
        } catch let error as PostgresError {
            #expect(error.message.hasPrefix("invalid connection string"))
            #expect(!error.description.contains("s3cret"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// sslpassword unlocks the client certificate's key: as secret as the password.
    @Test func redactedFormMasksTheClientKeysPasswordToo() throws {
        let kv = try ConnectionConfig("host=db sslkey=/k.pem sslpassword=hunter2")
        #expect(!kv.redacted.contains("hunter2") && kv.redacted.contains("sslpassword=********"), "\(kv.redacted)")
        let uri = try ConnectionConfig("postgresql://app@db/q?sslpassword=hunter2")
        #expect(!uri.redacted.contains("hunter2") && !"\(uri)".contains("hunter2"))
        #expect(kv.containsPassword && uri.containsPassword)
    }

    @Test func redactedFormMasksThePassword() throws {
        let config = try ConnectionConfig("postgresql://ana:pa55word@db.example.com:6543/app?sslmode=verify-full")
        #expect(config.redacted.contains("host=db.example.com"))
        #expect(config.redacted.contains("sslmode=verify-full"))
        #expect(!config.redacted.contains("pa55word"))
        #expect(!"\(config)".contains("pa55word"))
        #expect(config.endpoint == "db.example.com:6543")
        let kv = try ConnectionConfig("host=h port=1 password='x y z' dbname=d")
        #expect(!kv.redacted.contains("x y z"))
    }

    @Test func sslmodeFromTheURIIsHonoured() throws {
        try TestDatabase.with(migrated: false) { db in
            let admin = try db.connect()
            let port: String = try admin.query("SELECT current_setting('port')").scalar()
            // The private cluster has no TLS: sslmode=require must refuse rather than fall back.
            do {
                _ = try Connection.connect(try ConnectionConfig("postgresql://postgres@127.0.0.1:\(port)/\(db.name)?sslmode=require"))
                Issue.record("sslmode=require connected without TLS")
            } catch let error as PostgresError {
                #expect(error.description.lowercased().contains("ssl"))
            }
            // sslmode=disable is accepted by the same server (TCP, password auth not needed for
            // this negative check, so only the refusal above is asserted strictly).
        }
    }
}

/// Accepts TCP connections on 127.0.0.1 and never answers.
final class SilentListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        (fd, port) = try LoopbackSocket.listen(backlog: 16)
    }

    func close() { _ = Glibc.close(fd) }
}

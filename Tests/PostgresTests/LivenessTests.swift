import Foundation
@testable import Postgres
import TestSupport
import Testing

/// The liveness bound on every wait for the server (docs/RELIABILITY.md, "Liveness"), on one
/// connection: a silent link is declared lost and closed within the bound; a statement that is
/// allowed to run long (a statement timeout in force, or an explicit patience) is not cut.
@Suite struct LivenessTests {
    /// A bound of 1 s, as `QUEUETOP_LIVENESS_TIMEOUT=1` would set it.
    static func connect(_ db: TestDatabase, liveness: String = "1") throws -> Connection {
        try Connection.connect(db.config, environment: [Liveness.environmentVariable: liveness])
    }

    @Test func aStatementSilentPastTheBoundLosesTheConnectionAndClosesIt() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try Self.connect(db)
            let started = Date()
            #expect {
                try conn.query("SELECT pg_sleep(3)")
            } throws: { error in
                let pg = error as? PostgresError
                return pg?.kind == .connectionLost && pg?.message.contains("no answer from the server for 1 s") == true
            }
            let took = Date().timeIntervalSince(started)
            #expect(took >= 0.9 && took < 2.5, "gave up after \(took) s")
            #expect(!conn.isConnected, "closed, never reused mid-protocol")
            #expect(throws: PostgresError.self) { try conn.query("SELECT 1") }
        }
    }

    @Test func aStatementTimeoutInForceExtendsTheWaitForThatTransactionOnly() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try Self.connect(db)
            let slept: Bool = try conn.transaction { tx in
                try tx.setLocalStatementTimeout(5)
                return try tx.query("SELECT true FROM pg_sleep(2)").scalar()
            }
            #expect(slept, "a 2 s statement under a 5 s statement timeout outlives a 1 s bound")
            #expect(throws: PostgresError.self) { try conn.query("SELECT pg_sleep(2)") }  // the bound is back
        }
    }

    @Test func anExplicitPatienceLetsALongStatementFinish() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try Self.connect(db)
            let unbounded: Bool = try conn.withPatience(.unbounded) { try conn.query("SELECT true FROM pg_sleep(2)").scalar() }
            let upTo: Bool = try conn.withPatience(.upTo(seconds: 3)) { try conn.query("SELECT true FROM pg_sleep(2)").scalar() }
            #expect(unbounded && upTo && conn.isConnected)
        }
    }

    @Test func keepalivesAreOnByDefaultAndTheUsersOwnSettingsWin() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try Self.connect(db, liveness: "15")
            #expect(conn.option("keepalives") == "1")
            #expect(conn.option("keepalives_idle") == "5")
            #expect(conn.option("tcp_user_timeout") == "15000")
            let string = try db.config.unredactedConninfo() + " keepalives_idle=42 tcp_user_timeout=0"
            let own = try Connection.connect(try ConnectionConfig(string))
            #expect(own.option("keepalives_idle") == "42")
            #expect(own.option("tcp_user_timeout") == "0")
        }
    }

    @Test func aBadBoundIsRefusedWithTheVariableNamed() throws {
        for bad in ["0", "abc", "-3", "100000"] {
            #expect {
                try Liveness.timeout(environment: [Liveness.environmentVariable: bad])
            } throws: { error in
                "\(error)".contains(Liveness.environmentVariable)
            }
        }
        #expect(try Liveness.timeout(environment: [:]) == 15)
        #expect(try Liveness.timeout(environment: [Liveness.environmentVariable: "2.5"]) == 2.5)
    }
}

import Foundation
import Postgres
import TestSupport
import Testing

/// `--schema` and `QUEUETOP_SCHEMA` reach the real binary; a bad name is refused before any SQL.
@Suite struct SchemaOptionTests {
    @Test func aMalformedSchemaNameGetsOneClearLineAndNoSQL() throws {
        for arguments in [["status", "--schema", "a;drop"], ["--schema", "\"x\"", "status"]] {
            let r = try QueuetopBinary.run(arguments + ["--db", "postgres://u:secret@127.0.0.1:1/x"], timeout: 15)
            #expect(r.status != 0)
            #expect(r.stderr.contains("invalid schema name"), "\(arguments): \(r.stderr)")
            #expect(!r.stderr.contains("127.0.0.1:1"), "refused before connecting")
        }
        let env = try QueuetopBinary.run(["status"], environment: ["QUEUETOP_SCHEMA": "a;drop", "DATABASE_URL": "dbname=x"])
        #expect(env.status != 0)
        #expect(env.stderr.contains("invalid schema name"))
    }

    @Test func theOptionAndTheVariableChooseTheSchema() throws {
        try TestDatabase.with { db in
            let home = try Connection.connect(db.config).schema  // where the template's install lives
            let named = try QueuetopBinary.run(["status", "--json", "--schema", home], environment: ["DATABASE_URL": db.conninfo])
            #expect(named.status == 0, "\(named.stderr)")
            let viaEnv = try QueuetopBinary.run(["status", "--json"], environment: ["DATABASE_URL": db.conninfo, "QUEUETOP_SCHEMA": home])
            #expect(viaEnv.status == 0, "\(viaEnv.stderr)")
            // A schema that holds nothing: the binary looked there, not in the install.
            let elsewhere = try QueuetopBinary.run(["status"], environment: ["DATABASE_URL": db.conninfo, "QUEUETOP_SCHEMA": "elsewhere"])
            #expect(elsewhere.status != 0)
            #expect(elsewhere.stderr.contains("elsewhere"), "\(elsewhere.stderr)")
            let option = try QueuetopBinary.run(["status", "--schema", "nowhere"], environment: ["DATABASE_URL": db.conninfo])
            #expect(option.status != 0)
            #expect(option.stderr.contains("nowhere"), "\(option.stderr)")
        }
    }
}

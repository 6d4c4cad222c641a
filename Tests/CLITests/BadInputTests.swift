import Foundation
import TestSupport
import Testing

/// The binary as a user runs it: bad input gets one clear line, a non-zero exit, no secrets.
@Suite struct BadInputTests {
    @Test func unreachableServerFailsFastNamingHostAndPortWithoutThePassword() throws {
        let started = Date()
        let r = try QueuetopBinary.run(["--db", "postgres://u:secret@127.0.0.1:1/x", "migrate"], timeout: 15)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(r.status != 0)
        #expect(r.stderr.contains("127.0.0.1:1"))
        #expect(!(r.stderr + r.stdout).contains("secret"))
        #expect(!r.stderr.contains("Fatal error"), "no crash or stack trace")
        #expect(r.stderr.split(separator: "\n").count <= 2)
    }

    @Test func malformedURIGetsOneClearLine() throws {
        let r = try QueuetopBinary.run(["--db", "postgres://u:secret@[::1/x", "migrate"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("invalid connection string"))
        #expect(!(r.stderr + r.stdout).contains("secret"))
    }

    /// libpq splits at the first `@`: with an unencoded `@` in the password, the rest of it
    /// became the "host" that every message named. Nothing of the string is echoed now.
    @Test func anUnencodedAtInThePasswordEchoesNoPartOfTheString() throws {
        for uri in ["postgresql://u:s3cr@tPw@127.0.0.1:1/x", "postgres://u:s3cr/tPw@127.0.0.1:1/x"] {
            for args in [["--db", uri, "migrate"], ["status", "--db", uri], ["enqueue", "q", "--type", "t", "--db", uri]] {
                let r = try QueuetopBinary.run(args, timeout: 15)
                #expect(r.status != 0)
                let out = r.stderr + r.stdout
                for fragment in ["s3cr", "tPw", "@127", "127.0.0.1"] {
                    #expect(!out.contains(fragment), "\(args) printed \(fragment): \(out)")
                }
                #expect(out.contains("cannot parse the connection string (check that special characters in the password are percent-encoded)"), "\(out)")
                #expect(r.stderr.split(separator: "\n").count <= 2)
            }
        }
        // Percent-encoded, the same password is fine: the error is about the unreachable server.
        let encoded = try QueuetopBinary.run(["--db", "postgresql://u:s3cr%40tPw@127.0.0.1:1/x", "migrate"], timeout: 15)
        #expect(encoded.stderr.contains("127.0.0.1:1") && !encoded.stderr.contains("s3cr"), "\(encoded.stderr)")
    }

    @Test func unknownSubcommandAndMissingArgumentShowUsage() throws {
        let unknown = try QueuetopBinary.run(["frobnicate"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("frobnicate"))
        #expect(unknown.stderr.contains("Usage"))
        let missing = try QueuetopBinary.run(["migrate", "--db"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("--db"))
    }

    @Test func helpListsTheSubcommands() throws {
        let r = try QueuetopBinary.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("migrate"))
    }

    @Test func migrateAppliesThenReportsUpToDateAndStatusListsFiles() throws {
        try TestDatabase.with(migrated: false) { db in
            let first = try QueuetopBinary.run(["migrate", "--db", db.conninfo])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("applied  0001_"))
            let second = try QueuetopBinary.run(["migrate"], environment: ["DATABASE_URL": db.conninfo])
            #expect(second.status == 0)
            #expect(second.stdout.contains("up to date"))
            let status = try QueuetopBinary.run(["migrate", "--status", "--db", db.conninfo])
            #expect(status.stdout.contains("applied  0001_"))
            #expect(!status.stdout.contains("pending"))
            // Each row's label whole (it printed "repeatab repeatable/80_audit.sql").
            #expect(status.stdout.contains("repeatable repeatable/90_privileges.sql"), "\(status.stdout)")
            #expect(!status.stdout.contains("repeatab "))
        }
    }
}

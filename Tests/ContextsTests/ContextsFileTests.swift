import Contexts
import Foundation
import Postgres
import TestSupport
import Testing

/// The contexts file (docs/SCALING.md): what it accepts, and that every mistake is refused with
/// a message naming the file, the line where known, and the context.
@Suite struct ContextsFileTests {
    static let good = """
        # two regions, one replica, one read-only context
        [contexts.eu-1]
        url = "postgresql://app@eu1.example:5432/queues"
        replica = "postgresql://app@eu1-replica.example:5432/queues"
        region = "eu"
        shard = "a"

        [contexts.us-1]
        service = "queuetop-us"
        region = "us"

        [contexts.archive]
        replica = "host=archive.example dbname=queues user=viewer"

        [groups.emails]
        queue = "emails"
        shards = ["us-1", "eu-1"]
        """

    func refusal(_ text: String) -> String {
        do {
            _ = try ContextsFile.parse(text, path: "ctx.toml")
            return "accepted"
        } catch let error as ContextsFileError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func aGoodFileGivesEveryContextItsConnectionsAndLabels() throws {
        let file = try ContextsFile.parse(Self.good, path: "ctx.toml")
        #expect(file.contexts.map(\.name) == ["archive", "eu-1", "us-1"])
        let eu = try file.context(named: "eu-1")
        #expect(eu.primary == "postgresql://app@eu1.example:5432/queues")
        #expect(eu.replica == "postgresql://app@eu1-replica.example:5432/queues")
        #expect(eu.labelText == "region=eu shard=a")
        #expect(try eu.readConnection().endpoint == "eu1-replica.example:5432", "reads go to the replica")
        #expect(try eu.writeConnection().endpoint == "eu1.example:5432", "writes go to the primary")
        let us = try file.context(named: "us-1")
        #expect(us.primary == "service='queuetop-us'")
        let archive = try file.context(named: "archive")
        #expect(archive.isReadOnly)
        #expect(throws: ContextsFileError.self) { try archive.writeConnection() }
        #expect(String(describing: (try? archive.writeConnection()) as Any) == "nil")
        do { _ = try archive.writeConnection() } catch { #expect("\(error)".contains("context archive has only a replica: it is read-only")) }
        #expect(file.groups == [ContextGroup(name: "emails", queue: "emails", shards: ["us-1", "eu-1"])], "shards keep file order")
    }

    @Test func aPasswordInTheFileIsRefusedNamingTheContext() {
        let uri = refusal("[contexts.eu-1]\nurl = \"postgresql://app:s3cret@db.example/q\"\n")
        #expect(uri.contains("ctx.toml:1: context eu-1: url contains a password"), "\(uri)")
        #expect(uri.contains("~/.pgpass"), "says where it belongs: \(uri)")
        #expect(!uri.contains("s3cret"), "never prints it: \(uri)")
        let conninfo = refusal("[contexts.eu-2]\nurl = \"x\"\n[contexts.bad]\nreplica = \"host=r password=hunter2\"\n")
        #expect(conninfo.contains("context bad: replica contains a password"), "\(conninfo)")
        #expect(!conninfo.contains("hunter2"))
        let keyPassword = refusal("[contexts.k]\nurl = \"host=db sslkey=/k.pem sslpassword=hunter2\"\n")
        #expect(keyPassword.contains("context k: url contains a password") && !keyPassword.contains("hunter2"), "\(keyPassword)")
    }

    /// Attacker's view (a shoulder, a CI log): a connection string pasted where a name or key
    /// goes is refused without printing its password back.
    @Test func aURLPastedAsANameOrKeyIsNotPrintedWithItsPassword() {
        let asName = refusal("[contexts.\"postgresql://app:s3cret@db.example/q\"]\nurl = \"host=a\"\n")
        #expect(asName.contains("is not allowed") && asName.contains("postgresql://***@db.example/q"), "\(asName)")
        let asKey = refusal("[contexts.a]\nurl = \"host=a\"\n\"host=db password=hunter2\" = 1\n")
        #expect(asKey.contains("unknown key \"host=db password=***\""), "\(asKey)")
        let asShard = refusal("[contexts.a]\nurl = \"host=a\"\n[groups.g]\nqueue = \"q\"\nshards = [\"a\", \"postgres://u:s3cret@h/q\"]\n")
        #expect(asShard.contains("shard \"postgres://***@h/q\" is not a context"), "\(asShard)")
        for message in [asName, asKey, asShard] { #expect(!message.contains("s3cret") && !message.contains("hunter2")) }
    }

    @Test func everyBadFileIsRefusedWithWhatAndWhere() {
        // A syntax error: toml++'s own message with its line.
        #expect(refusal("[contexts.a]\nurl = \"x\"\nurl2 = \n").hasPrefix("ctx.toml:3: "))
        // The same context twice.
        let twice = refusal("[contexts.a]\nurl = \"host=a\"\n\n[contexts.a]\nurl = \"host=b\"\n")
        #expect(twice.hasPrefix("ctx.toml:4: "), "\(twice)")
        // Unknown keys, at every level.
        #expect(refusal("default = \"a\"\n").contains("unknown key \"default\""))
        #expect(refusal("[contexts.a]\nurl = \"host=a\"\npassword = \"x\"\n").contains("ctx.toml:1: context a: unknown key \"password\""))
        #expect(refusal("[contexts.a]\nurl = \"host=a\"\n[groups.g]\nqueue = \"q\"\nshards = [\"a\"]\nweights = [1]\n")
            .contains("group g: unknown key \"weights\""))
        // Nowhere to connect, or two places.
        #expect(refusal("[contexts.a]\nregion = \"eu\"\n").contains("ctx.toml:1: context a: missing url"))
        #expect(refusal("[contexts.a]\nurl = \"host=a\"\nservice = \"s\"\n").contains("give url or service, not both"))
        #expect(refusal("[contexts.a]\nurl = \"\"\n").contains("context a: url is empty"))
        #expect(refusal("[contexts.a]\nurl = 5\n").contains("context a: url must be a string"))
        #expect(refusal("[contexts.a]\nurl = \"host=a nosuchkey=1\"\n").contains("context a: url: invalid connection string"))
        // Groups: a shard that is no context, twice the same, none, no queue.
        #expect(refusal("[contexts.a]\nurl = \"host=a\"\n[groups.g]\nqueue = \"q\"\nshards = [\"a\", \"zz\"]\n")
            .contains("ctx.toml:3: group g: shard \"zz\" is not a context of this file"))
        #expect(refusal("[contexts.a]\nurl = \"host=a\"\n[groups.g]\nqueue = \"q\"\nshards = [\"a\", \"a\"]\n").contains("listed twice"))
        #expect(refusal("[contexts.a]\nurl = \"host=a\"\n[groups.g]\nqueue = \"q\"\nshards = []\n").contains("shards is empty"))
        #expect(refusal("[contexts.a]\nreplica = \"host=a\"\n[groups.g]\nqueue = \"q\"\nshards = [\"a\"]\n")
            .contains("group g: shard \"a\" has only a replica"))
        #expect(refusal("[contexts.a]\nurl = \"host=a\"\n[groups.g]\nshards = [\"a\"]\n").contains("group g: missing queue"))
        // Names typed on a command line and drawn in a header.
        #expect(refusal("[contexts.\"a b\"]\nurl = \"host=a\"\n").contains("context name \"a b\" is not allowed"))
        #expect(refusal("[contexts.\"\\u001b[31m\"]\nurl = \"host=a\"\n").contains("is not allowed"))
        #expect(!refusal("[contexts.\"\\u001b[31m\"]\nurl = \"host=a\"\n").contains("\u{1B}"), "hostile bytes are escaped")
    }

    @Test func aMissingFileNamesThePathAndHowToChooseAnother() throws {
        let dir = NSTemporaryDirectory() + "qt-ctx-\(UUID().uuidString)"
        let choice = ContextsLocation.resolve(explicit: nil, environment: ["HOME": dir])
        #expect(choice.path == dir + "/.config/queuetop/contexts.toml")
        #expect(try ContextsLocation.loadIfPresent(explicit: nil, environment: ["HOME": dir]) == nil, "no default file: no contexts")
        #expect(ContextsLocation.resolve(explicit: nil, environment: ["HOME": dir, "QUEUETOP_CONTEXTS": "/x.toml"]).path == "/x.toml")
        #expect(ContextsLocation.resolve(explicit: "/y.toml", environment: ["QUEUETOP_CONTEXTS": "/x.toml"]).path == "/y.toml")
        do {
            _ = try ContextsLocation.load(explicit: dir + "/nope.toml", environment: [:])
            Issue.record("a missing named file must be an error")
        } catch {
            #expect("\(error)".contains("no contexts file at \(dir)/nope.toml"))
        }
    }

    /// The documented table (docs/SCALING.md, "Choosing the shard"): if this changes, every
    /// producer that hashes on its own sends keys to other databases than queuetop does.
    static let shardTable: [(key: String, value: UInt64, ofThree: String)] = [
        ("tenant-1", 0x0a96_abb3_3b07_ff0e, "c"),
        ("tenant-2", 0xe12e_79d5_93ae_648c, "c"),
        ("acme", 0x822b_33ad_87c1_48a0, "a"),
        ("globex", 0x5bc1_a08d_28e4_0fe7, "b"),
        ("initech", 0x4cdc_1a42_07f4_5b03, "b"),
        ("user:42", 0xea3f_d43b_e1e5_7d62, "a"),
        ("order-1001", 0x50ac_93f4_1009_bb58, "b"),
        ("Zürich", 0x4251_685e_06ca_b635, "c"),
        ("日本", 0xcf2a_bf0c_5be3_26cb, "a"),
    ]

    @Test func theShardHashIsTheDocumentedTable() {
        let group = ContextGroup(name: "g", queue: "emails", shards: ["a", "b", "c"])
        for row in Self.shardTable {
            #expect(ShardHash.value(row.key) == row.value, "\(row.key)")
            #expect(ShardHash.shard(for: row.key, in: group) == row.ofThree, "\(row.key)")
        }
        // FIPS 180-4 vectors: the empty string and "abc".
        #expect(ShardHash.value("") == 0xe3b0_c442_98fc_1c14)
        #expect(ShardHash.value("abc") == 0xba78_16bf_8f01_cfea)
        // A message longer than one block (padding across blocks).
        #expect(ShardHash.value(String(repeating: "a", count: 1000)) == 0x41ed_ece4_2d63_e8d9)
    }

    /// A producer that enqueues through the SQL API computes the shard in SQL, exactly as
    /// documented, and gets the same answer as `enqueue --group`.
    @Test func postgresComputesTheSameShardWithTheDocumentedSQL() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try Connection.connect(db.config)
            defer { conn.close() }
            for row in Self.shardTable {
                let sql = try conn.query("""
                    SELECT (mod(('x' || left(encode(sha256(convert_to(\(row.key)::text, 'UTF8')), 'hex'), 16))::bit(64)::bigint::numeric
                               + 18446744073709551616, 18446744073709551616) % 3)::int AS shard
                    """).scalar(Int.self)
                #expect(sql == ShardHash.index(row.key, count: 3), "\(row.key)")
            }
        }
    }
}

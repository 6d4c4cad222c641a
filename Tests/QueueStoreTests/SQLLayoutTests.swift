import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The rules of docs/SQL_LAYOUT.md that a reader relies on, held by the files themselves:
/// one canonical file per function, no schema names in bodies, versioned files never edited,
/// and docs/QUEUE_ENGINE.md pointing at the right file for every public function.
@Suite struct SQLLayoutTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static var set: MigrationSet { get throws { try MigrationFiles.loadSet() } }

    /// `create or replace function NAME(ARGS)`; ARGS may hold one level of parentheses
    /// (`numeric(10,2)`, `DEFAULT now()`).
    static let definition = try! NSRegularExpression(
        pattern: #"create\s+or\s+replace\s+(?:function|procedure)\s+([a-z_][a-z0-9_]*)\s*\(((?:[^()]|\([^()]*\))*)\)"#,
        options: [.caseInsensitive])

    /// One definition as written: its file and its argument list, whitespace collapsed.
    struct Definition: Hashable { let file: String; let arguments: String }

    /// function name -> every definition of it in the repeatable files.
    static func definitionsBySignature() throws -> [String: [Definition]] {
        var found: [String: [Definition]] = [:]
        for file in try set.repeatable {
            let text = file.sql
            for m in definition.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let name = String(text[Range(m.range(at: 1), in: text)!]).lowercased()
                let arguments = String(text[Range(m.range(at: 2), in: text)!]).lowercased()
                    .split(whereSeparator: \.isWhitespace).joined(separator: " ")
                found[name, default: []].append(Definition(file: file.name, arguments: arguments))
            }
        }
        return found
    }

    /// function name -> the one file that holds it (the first, when the test below fails).
    static func definitions() throws -> [String: [String]] {
        try definitionsBySignature().mapValues { defs in
            defs.map(\.file).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        }
    }

    /// A name lives in one file: overloads of it (`queue_health_snapshot()` and
    /// `queue_health_snapshot(boolean)`) sit side by side there. The same signature written twice
    /// is a merge accident, whichever file holds it.
    @Test func everyFunctionHasExactlyOneCanonicalDefinition() throws {
        let defs = try Self.definitionsBySignature()
        #expect(defs.count > 90, "the repeatable files were read (\(defs.count) functions)")
        for (name, found) in defs.sorted(by: { $0.key < $1.key }) {
            let files = Set(found.map(\.file))
            if files.count != 1 {
                Issue.record("\(name) is defined in \(files.count) files: \(files.sorted().joined(separator: ", "))")
            }
            if Set(found).count != found.count {
                Issue.record("\(name) has one signature defined twice: \(found.map(\.arguments))")
            }
        }
    }

    /// Function bodies resolve names through their pinned search_path only; a schema name in a
    /// body (`public.queues` in the claim until 0013) breaks installs in any other schema.
    @Test func noBodyNamesASchema() throws {
        let qualified = try NSRegularExpression(pattern: #"\b(public|queuetop|extensions|auth)\.[a-z_]"#)
        for file in try Self.set.repeatable {
            // String literals ('queuetop.health_fold' advisory-lock keys, setting names) and
            // comments are not names the body resolves.
            let code = Self.codeOnly(file.sql)
            let hits = qualified.matches(in: code, range: NSRange(code.startIndex..., in: code))
            #expect(hits.isEmpty, "\(file.name) names a schema: \(hits.prefix(3).map { String(code[Range($0.range, in: code)!]) })")
        }
    }

    /// The SQL text without comments and string literals (dollar-quoted bodies are code), one
    /// pass, so an apostrophe in a comment or a `--` inside a string cannot shift what is what.
    static func codeOnly(_ sql: String) -> String {
        var out = ""
        var chars = Array(sql.unicodeScalars)[...]
        while let c = chars.first {
            if c == "-", chars.dropFirst().first == "-" {
                while let n = chars.first, n != "\n" { chars = chars.dropFirst() }
            } else if c == "'" {
                chars = chars.dropFirst()
                while let n = chars.first {
                    chars = chars.dropFirst()
                    if n == "'" {
                        if chars.first == "'" { chars = chars.dropFirst() } else { break }
                    }
                }
                out += "''"
            } else {
                out.unicodeScalars.append(c)
                chars = chars.dropFirst()
            }
        }
        return out
    }

    /// Deployed databases recorded the checksums of 0001–0012 when they were applied; changing
    /// a byte of one makes `migrate` refuse those databases. Their SHA-256 as shipped:
    static let shipped: [String: String] = [
            "0001_queue_engine.sql": "b24a27a01c7b6e3987f4715bcb733550347c8676bf73cc2614f96af3ba52ad3e",
            "0002_bulk_operations_and_leads.sql": "5f92273bc4b1f9acf1b9cf244fe8e6144a03a0cf01e4344f571d98d1c299b023",
            "0003_health.sql": "c759279243d273a5f863ea765297e78b0ee993cf038f7f21db8006d68312a702",
            "0004_workers.sql": "2890ded80d244de608a1495e9fc9a174b8517a07081959c2c5b9fd026d0580bd",
            "0005_maintenance.sql": "ab9cdb08fb8a570b24fa902f1acb037f5c62fb5fa23f114e22134757ab7ae441",
            "0006_hot_path.sql": "5ccfb77f0845492a3ee1847cf719bd06d8350e7e34c90a32933de87a43047061",
            "0007_roles.sql": "758a3c8264a0f280c4e53ee3eb2a4879801ceb462bb3f2eb59c13e5c9e915a17",
            "0008_schedules_and_alert_hooks.sql": "440c76a7b159007e618d2470f36b6878bca6b45cd0801d62a982e0df90641c0f",
            "0009_roles_for_schedules_and_alerts.sql": "322aefc468ab2247178fb1431a3d72aab0a69f46d90ac93d357f9cec49c2f1aa",
            "0010_results_expiry_tenants.sql": "fa69297bbca956ea3d333e15cddb09cfea93047d3d04fe9f97aff5056359afce",
            "0011_health_trigger_plan.sql": "7c5153ea20d52bbda66e071279758a438a253be511f2e19e0c7727dd94cf8c53",
            "0012_probe_held_jobs_by_id.sql": "ba1837564cced5db4b96e2cc03e5a286fb4934f56cb65676aff8363a93ee41c2",
    ]

    @Test func shippedVersionedFilesAreByteIdentical() throws {
        let files = try Self.set.versioned
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            for (name, checksum) in Self.shipped {
                guard let file = files.first(where: { $0.name == name }) else {
                    Issue.record("\(name) is missing: deployed databases list it"); continue
                }
                let actual: String = try conn.query("SELECT encode(sha256(convert_to(\(file.sql), 'UTF8')), 'hex')").scalar()
                #expect(actual == checksum, "\(name) changed after it shipped: add a new numbered file instead")
            }
        }
    }

    /// docs/QUEUE_ENGINE.md's function index names the one file to open for each public function.
    @Test func theFunctionIndexPointsAtEachFunctionsFile() throws {
        let doc = try String(contentsOf: Self.root.appendingPathComponent("docs/QUEUE_ENGINE.md"), encoding: .utf8)
        for (name, files) in try Self.definitions() where !name.hasPrefix("_") {
            guard let file = files.first else { continue }
            #expect(doc.contains("`\(name)` | [\(file)](../migrations/repeatable/\(file))"),
                    "docs/QUEUE_ENGINE.md does not list `\(name)` in \(file)")
        }
    }
}

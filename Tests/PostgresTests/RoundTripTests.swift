import Foundation
import Postgres
import TestSupport
import Testing

/// Values travel as bind parameters and come back unchanged.
@Suite struct RoundTripTests {
    @Test func textWithQuotesUnicodeAndInjectionRoundTrips() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let samples = ["it's", "\"quoted\"", "back\\slash", "'); DROP TABLE job_queue;--", "ação 🚀 漢字", "", String(repeating: "x", count: 1_000_000)]
            for s in samples {
                let back: String = try conn.query("SELECT \(s)::text AS v").scalar()
                #expect(back == s)
            }
        }
    }

    @Test func nullBindsAndDecodesAsNil() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let none: String? = nil
            let row = try #require(try conn.query("SELECT \(none)::text AS v, \(none)::int IS NULL AS isnull").first)
            #expect(try row.decode("v", as: String?.self) == nil)
            #expect(try row.decode("isnull", as: Bool.self))
        }
    }

    @Test func numbersBoolsUUIDsAndTimestampsRoundTrip() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let id = UUID()
            let when = Date(timeIntervalSince1970: 1_763_780_000.123456)
            let row = try #require(try conn.query("""
                SELECT \(Int64.max)::bigint AS big, \(Int32.min)::int AS small, \(3.25)::float8 AS f,
                       \(true)::bool AS b, \(id)::uuid AS id, \(when)::timestamptz AS at,
                       12.5::numeric AS n
                """).first)
            #expect(try row.decode("big", as: Int64.self) == Int64.max)
            #expect(try row.decode("small", as: Int32.self) == Int32.min)
            #expect(try row.decode("f", as: Double.self) == 3.25)
            #expect(try row.decode("b", as: Bool.self))
            #expect(try row.decode("id", as: UUID.self) == id)
            let back = try row.decode("at", as: Date.self)
            #expect(abs(back.timeIntervalSince1970 - when.timeIntervalSince1970) < 0.000002)
            #expect(try row.decode("n", as: Double.self) == 12.5)
        }
    }

    @Test func jsonbKeepsItsContent() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let doc = JSONText(#"{"to": "ana@example.com", "tags": ["a", "b\"c"], "n": 1}"#)
            let back: String = try conn.query("SELECT (\(doc)::jsonb -> 'tags' ->> 1) AS v").scalar()
            #expect(back == "b\"c")
            let whole: JSONText = try conn.query("SELECT \(doc)::jsonb").scalar()
            #expect(whole.raw.contains("ana@example.com"))
        }
    }

    @Test func arraysRoundTripIncludingAwkwardElementsAndNulls() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let words = ["plain", "with,comma", "with \"quote\"", "{brace}", "back\\slash", "NULL", "", "ação 🚀 漢字 \\\""]
            let back: [String] = try conn.query("SELECT \(words)::text[]").scalar()
            #expect(back == words)
            let ids = [UUID(), UUID()]
            let count: Int = try conn.query("SELECT cardinality(\(ids)::uuid[])").scalar()
            #expect(count == 2)
            let withNulls: [Int?] = [1, nil, 3]
            let nullCount: Int = try conn.query("SELECT count(*) FROM unnest(\(withNulls)::int[]) v WHERE v IS NULL").scalar()
            #expect(nullCount == 1)
            let ints: [Int] = try conn.query("SELECT ARRAY[1, 2, 3]").scalar()
            #expect(ints == [1, 2, 3])
        }
    }

    @Test func transactionRollsBackWhenBodyThrows() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            try conn.execute("CREATE TABLE t (v int)")
            struct Boom: Error {}
            #expect(throws: Boom.self) {
                try conn.transaction { tx in
                    try tx.execute("INSERT INTO t VALUES (\(1))")
                    throw Boom()
                }
            }
            let n: Int = try conn.query("SELECT count(*) FROM t").scalar()
            #expect(n == 0)
        }
    }
}

import Foundation
@testable import Postgres
import Testing

@Suite struct DecodingTests {
    @Test func timestampsParseWithOffsetsAndFractions() throws {
        let a = try #require(PostgresTimestamp.parse("2026-11-22 02:31:00.5+00"))
        #expect(a.timeIntervalSince1970 == 1_795_314_660.5)
        let b = try #require(PostgresTimestamp.parse("2026-11-22 05:31:00.5+03"))
        #expect(a == b)
        let c = try #require(PostgresTimestamp.parse("2026-11-21 23:01:00.5-03:30"))
        #expect(a == c)
        #expect(PostgresTimestamp.parse("garbage") == nil)
        #expect(PostgresTimestamp.parse(PostgresTimestamp.format(a)) == a)
    }

    /// PostgreSQL stores years up to 294276 and BC dates: such a row is read, and anything else
    /// is a decoding error, never a trap. Formatting a date PostgreSQL cannot store (year
    /// 300000 trapped converting to Int64) gives a literal the server refuses.
    @Test func timestampsBeyondYear9999AndBCAreReadAndOutOfRangeDatesDoNotTrap() throws {
        let far = try #require(PostgresTimestamp.parse("20000-06-01 00:00:00+00"))
        #expect(far.timeIntervalSince1970 == 568_984_953_600)
        let last = try #require(PostgresTimestamp.parse("294276-12-31 23:59:59.999999+00"))
        #expect(last.timeIntervalSince1970 > 9.2e12)
        let bc = try #require(PostgresTimestamp.parse("0044-03-15 00:00:00+00 BC"))
        #expect(bc.timeIntervalSince1970 == -63_517_824_000)
        #expect(PostgresTimestamp.parse(PostgresTimestamp.format(bc)) == bc)
        #expect(PostgresTimestamp.parse(PostgresTimestamp.format(far)) == far)
        for bad in ["1234567-01-01 00:00:00+00", "2026-02-31x00:00:00+00", "2026-13-01 00:00:00+00", "99999999999999999999",
                    "2026-01-01 00:00:00+0", "2026-01-01 00:00:00+00:", "", "-infinityx"] {
            #expect(PostgresTimestamp.parse(bad) == nil, "\(bad)")
            #expect(throws: PostgresError.self) { try Date.decode(postgresText: bad, typeOID: 1184) }
        }
        for date in [Date(timeIntervalSince1970: 9.4e12), Date(timeIntervalSince1970: -9.4e12),
                     Date(timeIntervalSince1970: .nan), Date(timeIntervalSince1970: .infinity), .distantFuture] {
            _ = PostgresTimestamp.format(date)
        }
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 9.4e12)).hasPrefix("999999-"))
    }

    @Test func arrayLiteralsParse() throws {
        #expect(try PostgresArrayLiteral.decode("{}") == [])
        #expect(try PostgresArrayLiteral.decode("{a,\"b,c\",NULL,\"NULL\"}") == ["a", "b,c", nil, "NULL"])
        #expect(try PostgresArrayLiteral.decode("[0:1]={x,y}") == ["x", "y"])
        #expect(throws: PostgresError.self) { try PostgresArrayLiteral.decode("not an array") }
    }

    @Test func uuidTextMatchesFoundationAndRefusesOtherForms() throws {
        for _ in 0..<200 {
            let id = UUID()
            #expect(id.postgresText == id.uuidString.lowercased())
            #expect(UUID(postgresText: id.postgresText) == id)
            #expect(UUID(postgresText: id.uuidString) == id)  // upper case too
        }
        let text = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        for bad in ["", "garbage", String(text.dropLast()), text + "0", text.replacingOccurrences(of: "-", with: ""),
                    "{\(text)}", text.replacingOccurrences(of: "f", with: "g"), " " + text.dropFirst()] {
            #expect(UUID(postgresText: bad) == nil, "\(bad)")
        }
    }
}

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

import Foundation
import Postgres
import QueueStore
import Testing

/// The worker's job id: read once from claim_jobs' text, never replaced by a made-up one.
@Suite struct JobIDTests {
    @Test func keepsTheServersTextAndRefusesAnythingElse() throws {
        let text = "0190a4d2-7c1e-7000-8000-00000000abcd"
        #expect(JobID(text)?.text == text)
        #expect(try JobID.decode(postgresText: text, typeOID: 0).postgresText == text)
        #expect(JobID(text.uppercased()) == JobID(text))  // one id, one key in the ledger
        #expect(JobID(UUID(uuidString: text)!) == JobID(text))
        #expect(JobID(text)?.uuid == UUID(uuidString: text))
        for bad in ["", "job-1", String(text.dropLast()), text + "0", text.replacingOccurrences(of: "-", with: ""), "0190a4d2-7c1e-7000-8000-00000000abcg"] {
            #expect(JobID(bad) == nil, "\(bad)")
            #expect(throws: PostgresError.self) { try JobID.decode(postgresText: bad, typeOID: 0) }
        }
    }
}

import Foundation
import Testing
import TerminalUI
@testable import QueueStore
import Postgres

/// Short ids tell jobs apart (issue 18, item 6): twenty jobs created in the same second share the
/// first 8 hex digits of their UUIDv7 (the clock), so the DLQ job list and the audit screen show
/// the random tail instead (`ShortJobID`).
@Suite struct ShortIDScreenTests {
    /// Twenty UUIDv7s of one second: the same 48-bit millisecond clock but for a few
    /// milliseconds, random bits after it (fixed here, so the goldens are stable).
    static let sameSecond: [UUID] = {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 16 }
        return (0..<20).map { n in
            let clock = String(format: "%012llx", 0x0193_a1b2_7c1e + UInt64(n % 3))
            let text = "\(clock.prefix(8))-\(clock.suffix(4))-7\(String(format: "%03llx", next() & 0xfff))-"
                + "\(String(format: "%04llx", 0x8000 | (next() & 0x3fff)))-\(String(format: "%012llx", next() & 0xffff_ffff_ffff))"
            return UUID(uuidString: text)!
        }
    }()

    static func dlqState() -> DashboardState {
        var state = DashboardFixture.state(.dlq)
        state.dlqLevel = .jobs(DLQGroupKey(queue: "emails", fingerprint: "5d41402abc4b", errorType: "smtp_error"))
        state.dlqJobs = sameSecond.map { id in
            DLQJob(id: id, queue: "emails", jobType: "send_welcome", errorType: "smtp_error", errorMessage: "SMTP 421 4.7.0 try again later",
                   attemptCount: 5, maxAttempts: 5, lastErrorAt: DashboardFixture.ago(40), createdAt: DashboardFixture.ago(3_600))
        }
        return state
    }

    static func auditState() -> DashboardState {
        var state = DashboardFixture.state(.audit)
        let ids = sameSecond.map { "\"\($0.uuidString.lowercased())\"" }.joined(separator: ", ")
        state.audit = [AuditEntry(id: 9, at: DashboardFixture.ago(30), databaseRole: "worker_app", actor: nil, action: "job.expire",
                                  filter: JSONText(#"{"queue": "campaign-messages", "ids": [\#(ids)]}"#), affected: 20)]
        return state
    }

    @Test func theFixtureIsTwentyJobsOfOneSecondWithOneOldShortID() {
        #expect(Set(Self.sameSecond).count == 20)
        #expect(Set(Self.sameSecond.map { $0.uuidString.prefix(8) }).count == 1)
        #expect(Set(Self.sameSecond.map(ShortJobID.of)).count == 20)
    }

    @Test func theDLQJobListShowsTwentyDifferentIDs() throws {
        let buffer = DashboardScreenTests.draw(Self.dlqState(), 120, 40)
        try assertScreen(buffer, named: "short-ids-dlq-jobs-120x40")
        let text = buffer.plainText()
        for id in Self.sameSecond { #expect(text.contains(ShortJobID.of(id)), "\(ShortJobID.of(id)) not on screen") }
        try assertScreen(DashboardScreenTests.draw(Self.dlqState(), 80, 24, ascii: true), named: "short-ids-dlq-jobs-ascii-80x24")
    }

    @Test func theAuditScreenShowsTwentyDifferentIDs() throws {
        let buffer = DashboardScreenTests.draw(Self.auditState(), 120, 40)
        try assertScreen(buffer, named: "short-ids-audit-120x40")
        // The row lists as many as fit (here five), each different; the detail has the full ids.
        let row = buffer.plainText().split(separator: "\n").first { $0.contains("job.expire") }.map(String.init) ?? ""
        let shown = Self.sameSecond.prefix(5).map(ShortJobID.of)
        #expect(row.contains("ids " + shown.joined(separator: " ")), "\(row)")
        #expect(Set(shown).count == 5)
        try assertScreen(DashboardScreenTests.draw(Self.auditState(), 80, 24, ascii: true), named: "short-ids-audit-ascii-80x24")
    }
}

import Foundation
import Testing
import TestSupport

@Suite struct SnapshotHelperTests {
    @Test(.disabled(if: Snapshot.isRecording, "record mode would write the golden this test expects to be missing"))
    func aMissingGoldenFailsWithInstructions() {
        let error = #expect(throws: Snapshot.Failure.self) {
            try Snapshot.verify("anything", named: "no-such-golden-\(UUID().uuidString)")
        }
        #expect(error?.description.contains("QUEUETOP_RECORD_SNAPSHOTS=1") == true)
        #expect(error?.description.contains("missing snapshot") == true)
    }

    @Test func aDifferenceNamesTheLine() {
        let report = Snapshot.describeDifference(expected: "a\nb\nc\n", actual: "a\nB\nc\n")
        #expect(report.contains("line 2:\n  expected |b|\n  actual   |B|"))
        #expect(!report.contains("line 1:"))
    }

    @Test func goldensLiveBesideTheTests() {
        let url = Snapshot.goldenURL(named: "overview 80x24", filePath: #filePath)
        #expect(url.lastPathComponent == "overview_80x24.txt")
        #expect(url.deletingLastPathComponent().lastPathComponent == "Snapshots")
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// End to end in tmux: the Timeline tab shows a deploy mark and an operator action, Enter opens
/// the job an action concerned, `y` copies with OSC 52 only where tmux lets it through (and says
/// so, with the id, where it does not), and `:dump` writes the screen as plain text without ever
/// replacing a file unless told to.
@Suite(.serialized) struct TimelineTmuxTests {
    @Test func timelineCopyAndDump() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let payload = #"{"to": "cliente7@example.com", "subject": "Re: pedido #7"}"#
            let job = try JobStore(connection: conn).enqueue([NewJob(queue: "emails", type: "send", payload: JSONText(payload))])[0]
            try JobStore(connection: conn).cancel(id: job.id)
            let mark = try QueuetopBinary.run(["mark", "deploy v42", "--db", db.conninfo])
            #expect(mark.status == 0 && mark.stdout.contains("marked deploy \"deploy v42\""), "\(mark.stderr)")
            let id = job.id.uuidString.lowercased()

            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-tl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let dump = dir.appendingPathComponent("incident.txt").path

            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers")
            try tmux.keys("0")
            #expect(tmux.waitFor(timeout: 20) { $0.contains("Timeline, 24h") && $0.contains("deploy v42") && $0.contains("job.cancel") } != nil,
                    "the timeline lists the mark and the cancel: \(tmux.screen())")
            // The cancel in words from the real audit row, not its JSON (walk2).
            let short = String(id.suffix(8))
            #expect(tmux.screen().contains("cancelled job \(short) (pending)") && !tmux.screen().contains(#"{"ids""#),
                    "\(tmux.screen())")

            // The cancel is the second row (the mark came after it). tmux's default set-clipboard
            // (external) drops an application's OSC 52: the footer says so and shows the id.
            try tmux.keys("j")
            try tmux.keys("y")
            #expect(tmux.waitFor(timeout: 10) { $0.contains("set-clipboard on") && $0.contains(id) } != nil,
                    "refused copy explained with the id: \(tmux.screen())")
            #expect(tmux.pasteBuffer().map { $0.contains(id) } != true)
            try tmux.setServerOption("set-clipboard", "on")
            try tmux.keys("y")
            #expect(tmux.waitFor(timeout: 10) { $0.contains("copied job id to the clipboard (OSC 52)") } != nil, "\(tmux.screen())")
            #expect(tmux.pasteBuffer() == id, "tmux's buffer holds the id: \(tmux.pasteBuffer() ?? "none")")

            // :dump writes the screen as plain text; a second :dump to the same path is refused.
            try tmux.keys(":")
            try tmux.type("dump \(dump)", enter: true)
            #expect(tmux.waitFor(timeout: 10) { $0.contains("screen written to") } != nil, "\(tmux.screen())")
            let text = try String(contentsOfFile: dump, encoding: .utf8)
            #expect(text.contains("Timeline, 24h") && text.contains("deploy v42") && text.contains("job.cancel"))
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "no escape sequences in the dump")
            #expect(!text.contains(":dump"), "the screen as it is, not the command being typed")
            try tmux.keys(":")
            try tmux.type("dump \(dump)", enter: true)
            // The refusal names the path twice, so it is wider than a row: the footer wraps it at
            // word boundaries, and the space after ":dump!" may be where the first row ends.
            #expect(tmux.waitFor(timeout: 10) { $0.contains("exists; :dump!") } != nil, "\(tmux.screen())")
            #expect(try String(contentsOfFile: dump, encoding: .utf8) == text, "refused means untouched")

            // Enter opens the job the cancel concerned; y there copies its payload.
            try tmux.keys("Enter")
            #expect(tmux.waitFor(timeout: 15) { $0.contains(id) && $0.contains("cancelled") } != nil, "the job opened: \(tmux.screen())")
            try tmux.keys("y")
            #expect(tmux.waitFor(timeout: 10) { $0.contains("copied payload of job") } != nil, "\(tmux.screen())")
            let copied = tmux.pasteBuffer() ?? ""
            #expect(copied.contains("cliente7@example.com") && copied.contains("Re: pedido #7"), "payload in the buffer: \(copied)")
            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }
}

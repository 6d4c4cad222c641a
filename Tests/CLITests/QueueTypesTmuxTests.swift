import Foundation
import Postgres
import TestSupport
import Testing

/// Queue detail's job types from a real database, in a real terminal: the refresh carries none
/// (docs/HEALTH.md, "Per-type figures"), so they come from queue detail's own read of its queue,
/// and they keep coming with each refresh of it.
@Suite(.serialized) struct QueueTypesTmuxTests {
    @Test func queueDetailShowsItsJobTypesReadForThatQueue() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                SELECT enqueue_job('mail', t) FROM generate_series(1, 30) i, unnest(ARRAY['send', E'evil\\x1b[2J']) t;
                SELECT enqueue_job('zzz', 'elsewhere') FROM generate_series(1, 5);
                SELECT count(*) FROM claim_jobs('w', ARRAY['mail', 'zzz'], 100);
                SELECT complete_jobs('w', array_agg(id), array_agg(120)) FROM job_queue WHERE locked_by = 'w' AND job_type <> 'evil' || E'\\x1b[2J';
                SELECT fail_jobs('w', array_agg(id), array_agg('boom'::text), array_agg('x'::text))
                  FROM job_queue WHERE locked_by = 'w' AND status = 'processing';
                """)
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers --refresh 1")
            try tmux.keys("2")  // queue detail of the first queue, mail
            func typeRow(_ screen: String, _ name: String) -> Substring? {
                screen.split(separator: "\n").first { $0.contains(name) && $0.contains(" 30 ") }
            }
            let screen = tmux.waitFor(timeout: 15) { typeRow($0, "send") != nil && $0.contains("evil?[2J") }
            #expect(screen != nil, "the job types of mail are shown: \(tmux.screen())")
            // Another queue's types never show under this one.
            #expect(screen?.contains("elsewhere") == false)
            // After a few refreshes they are still there (each refresh of the screen reads them again).
            Thread.sleep(forTimeInterval: 2.5)
            #expect(typeRow(tmux.screen(), "send") != nil && !tmux.screen().contains("loading the job types"), "\(tmux.screen())")
            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }
}

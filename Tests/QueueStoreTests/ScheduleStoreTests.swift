import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing
import Synchronization

/// Schedules against the real Postgres: validation, the ticker's one-enqueue-per-tick rule,
/// coalescing after downtime, disable, run-now and its audit row.
@Suite struct ScheduleStoreTests {
    func jobs(_ conn: Connection, queue: String) throws -> Int {
        try conn.query("SELECT count(*)::int FROM job_queue WHERE queue = \(queue)").scalar()
    }

    @Test func addStoresTheFirstFireTimeAndRefusesBadInputLeavingNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = ScheduleStore(connection: conn)
            let added = try store.add(NewSchedule(name: "fetch-emails", cron: "*/5 * * * *", queue: "emails",
                                                  jobType: "fetch_emails", payload: JSONText(#"{"box":"in"}"#)))
            let now: Date = try conn.query("SELECT now()").scalar()
            #expect(added.enabled && added.lastRunAt == nil && added.lastOutcome == nil)
            #expect(added.nextRunAt > now && added.nextRunAt <= now.addingTimeInterval(300))
            #expect(Int(added.nextRunAt.timeIntervalSince1970) % 300 == 0)

            let bad: [(NewSchedule, String)] = [
                (NewSchedule(name: "x", cron: "*/5 * * *", queue: "q", jobType: "t"), "expected 5 fields"),
                (NewSchedule(name: "x", cron: "61 * * * * *", queue: "q", jobType: "t"), "second field"),
                (NewSchedule(name: "x", cron: "* * * * *", queue: "q", jobType: "t", payload: JSONText("{nope")), "not valid JSON"),
                (NewSchedule(name: "fetch-emails", cron: "* * * * *", queue: "q", jobType: "t"), "already exists"),
                (NewSchedule(name: "bad name", cron: "* * * * *", queue: "q", jobType: "t"), "schedule name \"bad name\" must be 1 to 100 letters"),
                (NewSchedule(name: "x", cron: "* * * * *", queue: "q", jobType: "t", priority: 2_000_000), "priority"),
                (NewSchedule(name: "x", cron: "* * * * *", queue: "q", jobType: ""), "job type must be 1 to 200 characters"),
            ]
            for (schedule, expected) in bad {
                #expect(throws: QueueStoreError.self) { _ = try store.add(schedule) }
                do { _ = try store.add(schedule) } catch { #expect(String(describing: error).contains(expected), "\(error)") }
            }
            #expect(try store.list().map(\.name) == ["fetch-emails"])
            #expect(try store.get("fetch-emails") == added)
            #expect(try AuditStore(connection: conn).list(action: "schedule.add").count == 1)
        }
    }

    @Test func aDueScheduleEnqueuesOnceAndAdvances() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = ScheduleStore(connection: conn)
            _ = try store.add(NewSchedule(name: "minutely", cron: "* * * * *", queue: "work", jobType: "process_queue",
                                          payload: JSONText(#"{"n":1}"#), priority: 5))
            // Nothing is due yet.
            #expect(try store.tick().fired.isEmpty)
            #expect(try jobs(conn, queue: "work") == 0)
            // Make the tick due: the top of the current minute.
            try conn.query("UPDATE schedules SET next_run_at = date_trunc('minute', now())")
            let result = try store.tick()
            #expect(result.fired == [ScheduleStore.Fired(name: "minutely", outcome: "enqueued")])
            #expect(try store.tick().fired.isEmpty)
            let job = try conn.query("SELECT job_type, payload::text AS p, priority, dedup_key FROM job_queue WHERE queue = 'work'")
            #expect(job.count == 1)
            #expect(try job[0].decode("job_type", as: String.self) == "process_queue")
            #expect(try job[0].decode("priority", as: Int.self) == 5)
            #expect(try job[0].decode("p", as: String.self) == #"{"n": 1}"#)
            #expect(try job[0].decode("dedup_key", as: String.self).hasPrefix("schedule:minutely:"))
            let after = try store.get("minutely")
            let now: Date = try conn.query("SELECT now()").scalar()
            #expect(after.nextRunAt > now && after.lastRunAt != nil && after.lastOutcome == "enqueued")
            #expect(try result.secondsUntilNextDue.map { $0 > 0 && $0 <= 60 } == true)
        }
    }

    @Test func ticksMissedDuringDowntimeCoalesceIntoOneRun() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = ScheduleStore(connection: conn)
            _ = try store.add(NewSchedule(name: "sync", cron: "*/10 * * * * *", queue: "sync", jobType: "sync_store"))
            // As if no worker ran for two minutes: at least 12 ticks are due.
            try conn.query("UPDATE schedules SET next_run_at = date_trunc('minute', now()) - interval '2 minutes'")
            let fired = try store.tick().fired
            #expect(fired.count == 1)
            #expect(fired.first?.outcome.hasPrefix("enqueued (coalesced ") == true)
            #expect(try jobs(conn, queue: "sync") == 1)
            let s = try store.get("sync")
            #expect(s.missedTicks >= 12 && s.missedTicks <= 18)
            #expect(try store.tick().fired.isEmpty)
        }
    }

    @Test func manyTickersAtOnceEnqueueOneJobPerTick() throws {
        try TestDatabase.with { db in
            let setup = try db.connect()
            defer { setup.close() }
            for n in 0..<5 {
                _ = try ScheduleStore(connection: setup).add(NewSchedule(name: "s\(n)", cron: "* * * * *", queue: "race", jobType: "t"))
            }
            try setup.query("UPDATE schedules SET next_run_at = date_trunc('minute', now())")
            // Eight sessions tick at the same moment, each several times (OS threads: they block in libpq).
            let group = DispatchGroup()
            let failures = Mutex(0)
            for _ in 0..<8 {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        let conn = try db.connect()
                        defer { conn.close() }
                        for _ in 0..<5 { _ = try ScheduleStore(connection: conn).tick() }
                    } catch { failures.withLock { $0 += 1 } }
                }.start()
            }
            group.wait()
            #expect(failures.withLock { $0 } == 0)
            #expect(try jobs(setup, queue: "race") == 5)
            #expect(try setup.query("SELECT count(DISTINCT dedup_key)::int FROM job_queue").scalar(Int.self) == 5)
        }
    }

    @Test func aTickWhoseJobIsStillPendingIsDeduplicated() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = ScheduleStore(connection: conn)
            _ = try store.add(NewSchedule(name: "again", cron: "* * * * *", queue: "again", jobType: "t"))
            try conn.query("UPDATE schedules SET next_run_at = date_trunc('minute', now())")
            #expect(try store.tick().fired.map(\.outcome) == ["enqueued"])
            // The same tick due again (a clock step back, a restored backup): the dedup key holds.
            try conn.query("UPDATE schedules SET next_run_at = date_trunc('minute', now())")
            #expect(try store.tick().fired.map(\.outcome) == ["deduplicated"])
            #expect(try jobs(conn, queue: "again") == 1)
        }
    }

    @Test func aFailingEnqueueIsRecordedAndTheScheduleStillAdvances() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = ScheduleStore(connection: conn)
            _ = try store.add(NewSchedule(name: "huge", cron: "* * * * *", queue: "huge", jobType: "t"))
            #expect(throws: QueueStoreError.self) {
                _ = try store.add(NewSchedule(name: "huge2", cron: "* * * * *", queue: "huge", jobType: "t",
                                              payload: JSONText("\"" + String(repeating: "a", count: 1_100_000) + "\"")))
            }
            // A raw UPDATE gives it a payload enqueue_job refuses (over 1 MiB).
            try conn.query("""
                UPDATE schedules SET payload = jsonb_build_object('x', repeat('a', 1100000)),
                                     next_run_at = date_trunc('minute', now())
                """)
            let fired = try store.tick().fired
            #expect(fired.count == 1 && fired[0].outcome.hasPrefix("error: payload of job 1 is"))
            let s = try store.get("huge")
            let now: Date = try conn.query("SELECT now()").scalar()
            #expect(s.enabled && s.nextRunAt > now && s.lastOutcome == fired[0].outcome)
            #expect(try jobs(conn, queue: "huge") == 0)
            #expect(try store.list().count == 1)
        }
    }

    @Test func disabledSchedulesDoNotFireAndEnableRestartsTheClock() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let store = ScheduleStore(connection: conn)
            _ = try store.add(NewSchedule(name: "off", cron: "* * * * * *", queue: "off", jobType: "t"))
            let disabled = try store.setEnabled("off", false)
            #expect(!disabled.enabled)
            try conn.query("UPDATE schedules SET next_run_at = now() - interval '1 hour'")
            #expect(try store.tick().fired.isEmpty)
            #expect(try jobs(conn, queue: "off") == 0)
            // Enabled again: the hour it missed is not run; the next tick is after now.
            let enabled = try store.setEnabled("off", true)
            let now: Date = try conn.query("SELECT now()").scalar()
            #expect(enabled.enabled && enabled.nextRunAt > now)
            let actions = try AuditStore(connection: conn).list().map(\.action)
            #expect(actions.prefix(2) == ["schedule.enable", "schedule.disable"])
            #expect(throws: QueueStoreError.self) { _ = try store.setEnabled("nope", true) }
        }
    }

    @Test func runNowEnqueuesOnceAndIsAudited() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.query("SELECT set_config('queuetop.actor', 'tester@host', false)")
            let store = ScheduleStore(connection: conn)
            _ = try store.add(NewSchedule(name: "leads", cron: "*/30 * * * * *", queue: "lead_migrations", jobType: "process"))
            _ = try store.setEnabled("leads", false)
            let id = try store.runNow("leads")
            #expect(try jobs(conn, queue: "lead_migrations") == 1)
            let s = try store.get("leads")
            #expect(s.lastJobID == id && s.lastOutcome == "run now" && !s.enabled)
            let audit = try AuditStore(connection: conn).list(action: "schedule.run")
            #expect(audit.count == 1 && audit[0].clientLabel == "tester@host" && audit[0].affected == 1)
            #expect(audit[0].filter.raw.contains(id.uuidString.lowercased()))
            do {
                _ = try store.runNow("missing")
                Issue.record("run-now of an unknown schedule succeeded")
            } catch QueueStoreError.notFound(let message) {
                #expect(message.contains("unknown schedule \"missing\""))
            }
            #expect(try jobs(conn, queue: "lead_migrations") == 1)
        }
    }

    @Test func aRawRowTheParserRejectsIsDisabledWithTheReason() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // Raw INSERTs that bypass the parser: shape passes the CHECK, meaning does not.
            try conn.query("""
                INSERT INTO schedules (name, cron, queue, job_type, next_run_at)
                VALUES ('broken', '99 * * * *', 'q', 't', now() - interval '1 second')
                """)
            let fired = try ScheduleStore(connection: conn).tick().fired
            #expect(fired.count == 1 && fired[0].outcome.contains("minute field"))
            let s = try ScheduleStore(connection: conn).get("broken")
            #expect(!s.enabled && s.lastOutcome?.hasPrefix("error: cron expression") == true)
            #expect(throws: (any Error).self) {
                try conn.query("INSERT INTO schedules (name, cron, queue, job_type, next_run_at) VALUES ('b2', 'every minute', 'q', 't', now())")
            }
        }
    }
}

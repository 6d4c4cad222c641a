import Foundation
import Postgres

/// One row of `schedules` (migrations/0008): a cron expression that enqueues a job.
public struct Schedule: Sendable, Equatable {
    public let name: String
    public let cron: String
    public let queue: String
    public let jobType: String
    public let payload: JSONText
    public let priority: Int
    public let enabled: Bool
    public let nextRunAt: Date
    public let lastRunAt: Date?
    public let lastJobID: UUID?
    /// `enqueued`, `deduplicated`, `run now` or `error: …`, with "(coalesced N missed ticks)".
    public let lastOutcome: String?
    public let missedTicks: Int64
}

/// What a new schedule enqueues, and when.
public struct NewSchedule: Sendable, Equatable {
    public var name: String
    public var cron: String
    public var queue: String
    public var jobType: String
    public var payload: JSONText
    public var priority: Int

    public init(name: String, cron: String, queue: String, jobType: String,
                payload: JSONText = JSONText("{}"), priority: Int = 0) {
        self.name = name; self.cron = cron; self.queue = queue; self.jobType = jobType
        self.payload = payload; self.priority = priority
    }
}

/// Schedules: the operator actions (audited by the SQL functions) and the ticker's one step.
public struct ScheduleStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    static let columns = """
        name, cron, queue, job_type, payload, priority, enabled, next_run_at, last_run_at, last_job_id,
        last_outcome, missed_ticks
        """

    /// Every schedule by name: what the dashboard's Schedules screen shows.
    public func list() throws -> [Schedule] {
        try connection.run("SELECT \(unsafeRaw: Self.columns) FROM \(qt: "schedules") ORDER BY name").map(Self.decode)
    }

    public func get(_ name: String) throws -> Schedule {
        guard let row = try connection.run("SELECT \(unsafeRaw: Self.columns) FROM \(qt: "schedules") WHERE name = \(name)").first else {
            throw QueueStoreError.notFound("unknown schedule \"\(name)\"; list schedules with `queuetop schedule list`")
        }
        return try Self.decode(row)
    }

    /// Validates the expression and payload here (so nothing is stored when either is wrong),
    /// then stores the schedule with its first fire time after the database's clock.
    public func add(_ schedule: NewSchedule) throws -> Schedule {
        try Self.checkName(schedule.name, what: "schedule")
        guard (-1_000_000...1_000_000).contains(schedule.priority) else {
            throw QueueStoreError.invalidInput("priority \(schedule.priority) is outside -1000000…1000000")
        }
        guard (1...200).contains(schedule.jobType.count) else {
            throw QueueStoreError.invalidInput("job type must be 1 to 200 characters")
        }
        let cron = try CronExpression(schedule.cron)
        guard let data = schedule.payload.raw.data(using: .utf8),
              (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil else {
            throw QueueStoreError.invalidInput("payload is not valid JSON: \(schedule.payload.raw.prefix(80))")
        }
        // enqueue_job's own limit: a bigger payload would make every tick fail.
        guard data.count <= 1_048_576 else {
            throw QueueStoreError.invalidInput("payload is \(data.count) bytes; the limit is 1 MiB (1048576 bytes)")
        }
        let next = try nextRun(cron)
        let row = try connection.run("""
            SELECT \(unsafeRaw: Self.columns) FROM \(qt: "create_schedule")(\(schedule.name), \(cron.source), \(schedule.queue),
                \(schedule.jobType), \(schedule.payload)::jsonb, \(schedule.priority), \(next))
            """)
        guard let first = row.first else { throw QueueStoreError.database("create_schedule returned nothing") }
        return try Self.decode(first)
    }

    /// Enabling restarts the clock from now: the ticks missed while disabled are not run.
    public func setEnabled(_ name: String, _ enabled: Bool) throws -> Schedule {
        let current = try get(name)
        let next: Date? = enabled ? try nextRun(try CronExpression(current.cron)) : nil
        let rows = try connection.run("""
            SELECT \(unsafeRaw: Self.columns) FROM \(qt: "set_schedule_enabled")(\(name), \(enabled), \(next))
            """)
        guard let first = rows.first else { throw QueueStoreError.database("set_schedule_enabled returned nothing") }
        return try Self.decode(first)
    }

    /// Enqueues the schedule's job once, now; audited as `schedule.run`. Returns the job id.
    public func runNow(_ name: String) throws -> UUID {
        try connection.run("SELECT \(qt: "run_schedule_now")(\(name))").scalar()
    }

    public func delete(_ name: String) throws {
        try connection.run("SELECT \(qt: "delete_schedule")(\(name))")
    }

    /// Names of schedules and alert hooks: what the CHECK constraints of 0008 accept, said plainly.
    static func checkName(_ name: String, what: String) throws {
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"#, options: .regularExpression) != nil else {
            throw QueueStoreError.invalidInput("\(what) name \"\(name.prefix(120))\" must be 1 to 100 letters, digits, '.', '_', ':' or '-', starting with a letter or digit")
        }
    }

    /// Whether migration 0008 is applied; the worker's ticker waits quietly until it is.
    public func isInstalled() throws -> Bool {
        try connection.run("""
            SELECT to_regproc(format('%I.lock_due_schedules', \(connection.schema)::text)) IS NOT NULL AS ok
            """).scalar()
    }

    /// The next fire time after the database's clock (not this host's: tickers on several hosts
    /// must agree on what is due).
    func nextRun(_ cron: CronExpression) throws -> Date {
        let now: Date = try connection.run("SELECT now()").scalar()
        guard let next = cron.next(after: now) else {
            throw QueueStoreError.invalidInput("cron expression \"\(cron.source)\" never fires")
        }
        return next
    }

    /// One outcome of a ticker step, for the log.
    public struct Fired: Sendable, Equatable {
        public let name: String
        public let outcome: String
        public init(name: String, outcome: String) { self.name = name; self.outcome = outcome }
    }

    /// One ticker step, in one transaction: locks the due schedules (skipping those another
    /// ticker holds), enqueues one job for each — the latest due tick, with the missed ones
    /// counted, not replayed — and moves next_run_at past now. Returns what fired and the
    /// seconds until the earliest next_run_at of the enabled schedules (by the database's clock,
    /// so host clock skew cannot make a ticker late), so the ticker knows how long to sleep.
    public func tick(maxSchedules: Int = 100) throws -> (fired: [Fired], secondsUntilNextDue: Double?) {
        let fired = try connection.transaction { conn -> [Fired] in
            var fired: [Fired] = []
            for row in try conn.run("SELECT name, cron, next_run_at, db_now FROM \(qt: "lock_due_schedules")(\(maxSchedules))") {
                let name: String = try row.decode("name")
                let dueAt: Date = try row.decode("next_run_at")
                let now: Date = try row.decode("db_now")
                let cron: CronExpression
                do {
                    cron = try CronExpression(try row.decode("cron", as: String.self))
                } catch {
                    try conn.run("SELECT \(qt: "disable_broken_schedule")(\(name), \(String(describing: error)))")
                    fired.append(Fired(name: name, outcome: "disabled: \(error)"))
                    continue
                }
                let missed = cron.ticks(after: dueAt, upTo: now)
                guard let next = cron.next(after: now) else {
                    try conn.run("SELECT \(qt: "disable_broken_schedule")(\(name), 'the expression fires no more')")
                    continue
                }
                let outcome: String = try conn.run("""
                    SELECT \(qt: "fire_schedule")(\(name), \(missed.last ?? dueAt), \(missed.count), \(next))
                    """).scalar()
                fired.append(Fired(name: name, outcome: outcome))
            }
            return fired
        }
        // Through a function: the worker role may not read the schedules table.
        let wait: Double?
        do {
            wait = try connection.run("SELECT \(qt: "schedules_next_due_s")() AS s").first?.decode("s")
        } catch let error as PostgresError where error.sqlState == "42883" {
            // An install from before 0013 (in `public`, not yet migrated) has no such function:
            // read the table as 0012's workers did, so this build's ticker works there until
            // `queuetop migrate` runs. (If the install just moved, this fails too, 42P01, and the
            // caller reconnects.)
            wait = try connection.run("""
                SELECT extract(epoch FROM min(next_run_at) - clock_timestamp())::float8 AS s
                FROM \(qt: "schedules") WHERE enabled
                """).first?.decode("s")
        }
        return (fired, wait)
    }

    static func decode(_ row: Row) throws -> Schedule {
        Schedule(name: try row.decode("name"), cron: try row.decode("cron"), queue: try row.decode("queue"),
                 jobType: try row.decode("job_type"), payload: try row.decode("payload"),
                 priority: try row.decode("priority"), enabled: try row.decode("enabled"),
                 nextRunAt: try row.decode("next_run_at"), lastRunAt: try row.decode("last_run_at"),
                 lastJobID: try row.decode("last_job_id"), lastOutcome: try row.decode("last_outcome"),
                 missedTicks: try row.decode("missed_ticks"))
    }
}

import Foundation

// The queue-health snapshot as `queue_health_snapshot()` (migrations/0003_health.sql) returns it
// and `queuetop status --json` prints it. docs/HEALTH.md documents every field. The JSON keys are
// snake_case; these types decode them as camelCase (`SnakeCaseKey`), so a field added on the SQL
// side is ignored here until someone needs it, and never breaks decoding.

/// Everything one refresh shows, read in one round trip.
public struct HealthSnapshot: Sendable, Equatable, Codable {
    public var generatedAt: Date
    /// Every queue in `queues`, ordered by name.
    public var queues: [QueueHealth]
    /// Every alert: each queue's alerts plus global ones (`worker_silent`, whose `queue` is nil).
    public var alerts: [Alert]
    /// Error groups over the last 24 h across all queues, most frequent first (at most 50): one
    /// entry per queue, error type and fingerprint (per queue and type before 0025).
    public var errorTypes: [ErrorTypeSummary]
    /// Workers not stopped, plus those stopped or declared dead within the last hour (at most 200).
    public var workers: [WorkerInfo]
    /// How many workers run, counted once in SQL over the whole registry: what `status`, the
    /// dashboard footer and the workers screen all show.
    public var workerCounts: WorkerCounts
    public var circuitBreakers: [CircuitInfo]
    /// Active lead migrations, and those that ended within the last hour, newest first.
    public var leadMigrations: [LeadMigration]

    public init(generatedAt: Date, queues: [QueueHealth], alerts: [Alert], errorTypes: [ErrorTypeSummary],
                workers: [WorkerInfo], workerCounts: WorkerCounts = WorkerCounts(live: 0, lost: 0),
                circuitBreakers: [CircuitInfo], leadMigrations: [LeadMigration]) {
        self.generatedAt = generatedAt; self.queues = queues; self.alerts = alerts; self.errorTypes = errorTypes
        self.workers = workers; self.workerCounts = workerCounts
        self.circuitBreakers = circuitBreakers; self.leadMigrations = leadMigrations
    }

    public func queue(named name: String) -> QueueHealth? { queues.first { $0.name == name } }
}

public struct QueueHealth: Sendable, Equatable, Codable {
    public var name: String
    public var paused: Bool
    /// Who paused the queue (the login role) and when, while it is paused; nil when it is not,
    /// before 0032, or for a queue paused before 0032 whose audit row was gone.
    public var pausedBy: String? = nil
    public var pausedAt: Date? = nil
    public var settings: QueueSettings
    /// Exact, from counters (not an estimate).
    public var counts: StatusCounts
    /// Seconds the oldest due pending job has waited (0 when none waits). Jobs scheduled for
    /// later or backing off before a retry are not waiting yet.
    public var oldestPendingSeconds: Int64
    /// The current minute and the 59 before it.
    public var lastHour: PeriodTotals
    /// Failed attempts / finished attempts over the last 5 minutes; nil when none finished.
    public var errorRate5m: Double?
    /// `closed`, `open` or `half_open`.
    public var circuit: String
    /// 24 points, oldest first, the last being the current UTC hour (zero-filled).
    public var throughputPerHour: [HourPoint]
    /// 60 points, oldest first, the last being the current minute (zero-filled).
    public var throughputPerMinute: [MinutePoint]
    public var latencyMs: LatencySummary
    public var alerts: [Alert]
    /// Per job type over the last hour: the 10 busiest by name, then one "other" entry. nil from
    /// a database migrated before 0017.
    public var types: [TypeHealth]? = nil
    /// Whether and when the backlog clears at the current rate. nil before 0017.
    public var forecast: DrainForecast? = nil
}

/// One job type's last hour in one queue. Counts are exact; p50/p95/p99 are histogram estimates
/// within the queue's `latencyMs.relativeError`, nil when no job of the type completed with a time.
public struct TypeHealth: Sendable, Equatable, Codable {
    /// nil for the "other" entry: types past the top 10, and those a queue saw after it already
    /// tracked `health_settings.type_cap` of them.
    public var type: String?
    public var other: Bool
    public var completed: Int64
    public var failed: Int64
    public var deadLettered: Int64
    /// failed / (completed + failed); nil when nothing finished.
    public var failRate: Double?
    public var p50: Double?
    public var p95: Double?
    public var p99: Double?
    public var samples: Int64

    public init(type: String?, completed: Int64, failed: Int64, deadLettered: Int64 = 0,
                p50: Double?, p95: Double?, p99: Double?, samples: Int64) {
        self.type = type; self.other = type == nil; self.completed = completed; self.failed = failed
        self.deadLettered = deadLettered
        self.failRate = completed + failed > 0 ? Double(failed) / Double(completed + failed) : nil
        self.p50 = p50; self.p95 = p95; self.p99 = p99; self.samples = samples
    }
}

/// The drain forecast: the backlog (pending + processing) against departures (completions and
/// dead-letterings) minus arrivals (jobs inserted) over the current minute and the 9 before it.
/// docs/HEALTH.md states the rule.
public struct DrainForecast: Sendable, Equatable, Codable {
    /// `no_backlog`, `idle`, `growing`, `steady` or `clears` (an open set: a later state decodes).
    public var state: String
    public var backlog: Int64
    public var arrived: Int64
    public var departed: Int64
    public var windowS: Int64
    public var netPerMin: Double
    /// Set when `state` is `clears`.
    public var clearsInMinutes: Int64?

    public init(state: String, backlog: Int64, arrived: Int64, departed: Int64, windowS: Int64 = 600,
                netPerMin: Double, clearsInMinutes: Int64?) {
        self.state = state; self.backlog = backlog; self.arrived = arrived; self.departed = departed
        self.windowS = windowS; self.netPerMin = netPerMin; self.clearsInMinutes = clearsInMinutes
    }

    /// "clears in ~12 min", "growing", "no backlog": the sentence `status` and queue detail print.
    public var summary: String {
        switch state {
        case "clears": return "clears in ~" + Self.span(clearsInMinutes ?? 0, long: true)
        case "no_backlog": return "no backlog"
        default: return state
        }
    }

    /// "~12m", "growing", "-" (no backlog): for a table column.
    public var short: String {
        switch state {
        case "clears": return "~" + Self.span(clearsInMinutes ?? 0, long: false)
        case "no_backlog": return "-"
        default: return state
        }
    }

    private static func span(_ minutes: Int64, long: Bool) -> String {
        switch minutes {
        case ..<120: return long ? "\(minutes) min" : "\(minutes)m"
        case ..<(48 * 60): return long ? "\((minutes + 30) / 60) h" : "\((minutes + 30) / 60)h"
        default: return long ? "\((minutes + 720) / 1440) d" : "\((minutes + 720) / 1440)d"
        }
    }
}

/// The queue's settings, for the queue-detail screen.
public struct QueueSettings: Sendable, Equatable, Codable {
    public var concurrencyLimit: Int?
    public var maxAttempts: Int
    public var rateLimitPerS: Double?
    public var visibilityTimeoutS: Int
    public var backoffBaseS: Int
    public var backoffCapS: Int
    public var backoffScheduleS: [Int]?
    public var dlqAlertThreshold: Int
    public var oldestPendingAlertS: Int
    public var errorRateAlert: Double
}

public struct StatusCounts: Sendable, Equatable, Codable {
    public var pending: Int64
    public var processing: Int64
    public var completed: Int64
    public var failed: Int64
    public var deadLetter: Int64
    public var cancelled: Int64

    public init(pending: Int64 = 0, processing: Int64 = 0, completed: Int64 = 0, failed: Int64 = 0,
                deadLetter: Int64 = 0, cancelled: Int64 = 0) {
        self.pending = pending; self.processing = processing; self.completed = completed
        self.failed = failed; self.deadLetter = deadLetter; self.cancelled = cancelled
    }

    public var total: Int64 { pending + processing + completed + failed + deadLetter + cancelled }
}

/// Event totals over a period. `failed` counts failed attempts (retried or not);
/// `deadLettered` is the part of them that went to the DLQ.
public struct PeriodTotals: Sendable, Equatable, Codable {
    public var completed: Int64
    public var failed: Int64
    public var deadLettered: Int64
}

public struct HourPoint: Sendable, Equatable, Codable {
    /// Start of the UTC hour.
    public var hour: Date
    public var completed: Int64
    public var failed: Int64
    public var deadLettered: Int64
}

public struct MinutePoint: Sendable, Equatable, Codable {
    public var minute: Date
    public var completed: Int64
    public var failed: Int64
}

/// Processing time of the jobs completed in the last hour. `p50`/`p95`/`p99` are estimates from
/// a log-bucketed histogram, each within `relativeError` (sqrt(1.1) - 1 = 4.881 %) of
/// percentile_cont over the raw rows; `avg`, `max` and `samples` are exact. All nil when
/// `samples` is 0.
public struct LatencySummary: Sendable, Equatable, Codable {
    public var p50: Double?
    public var p95: Double?
    public var p99: Double?
    public var avg: Double?
    public var max: Int64?
    public var samples: Int64
    public var relativeError: Double
    /// The names of the fields that are estimates.
    public var estimated: [String]
}

public struct Alert: Sendable, Equatable, Hashable, Codable {
    /// nil for global alerts (`worker_silent`).
    public var queue: String?
    public var kind: Kind
    public var message: String
    /// The measured figure and the threshold it crossed, when the alert has them.
    public var value: Double?
    public var threshold: Double?

    /// Open set of alert kinds: a kind added on the SQL side decodes as itself.
    public struct Kind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(rawValue)
        }
        public var description: String { rawValue }

        public static let dlqAboveThreshold = Kind(rawValue: "dlq_above_threshold")
        public static let oldestPendingTooOld = Kind(rawValue: "oldest_pending_too_old")
        public static let errorRateHigh = Kind(rawValue: "error_rate_high")
        public static let circuitOpen = Kind(rawValue: "circuit_open")
        public static let workerSilent = Kind(rawValue: "worker_silent")
    }
}

/// One error group of the top-errors list (`error_types` in the snapshot): the failures of one
/// queue sharing a type and a fingerprint (docs/TRIAGE.md "Fingerprints").
public struct ErrorTypeSummary: Sendable, Equatable, Codable {
    public var queue: String
    public var errorType: String
    public var count: Int64
    public var lastSeen: Date
    /// The most recent message of this group.
    public var sampleMessage: String?
    /// The group's fingerprint; nil for failures folded before 0025 (or from an older database).
    public var fingerprint: String? = nil
    /// The normalised message shared by the group ("timeout after <n> ms"); nil from a database
    /// older than 0025.
    public var pattern: String? = nil
}

public struct WorkerInfo: Sendable, Equatable, Codable {
    public var id: String
    public var host: String?
    public var pid: Int?
    public var queues: [String]
    public var concurrency: Int?
    public var inFlight: Int
    /// Of `inFlight`, the jobs claimed ahead whose handler has not started (the prefetch buffer;
    /// docs/WORKERS.md "Claiming ahead"). nil from a database older than migration 0024.
    public var buffered: Int? = nil
    /// `running`, `quiet`, `draining`, `stopped`, `lost` (silent for worker_silence_limit(), 30 s,
    /// its jobs not all handed back yet) or `dead` (declared dead by rescue_stale_jobs, its jobs
    /// handed back). Only a running, quiet or draining worker is live; the others show `inFlight` 0.
    public var status: String
    public var startedAt: Date
    public var lastSeen: Date
}

/// The registry's worker counts (`worker_counts` in the snapshot; worker_registry, 60_workers.sql).
public struct WorkerCounts: Sendable, Equatable, Codable {
    /// Not stopped, not dead, heard from within worker_silence_limit().
    public var live: Int
    /// Silent for that long but not yet declared dead.
    public var lost: Int

    public init(live: Int, lost: Int) { self.live = live; self.lost = lost }
}

public struct CircuitInfo: Sendable, Equatable, Codable {
    public var queue: String
    public var state: String
    public var consecutiveFailures: Int
    public var openedAt: Date?
    public var reopenAt: Date?
    public var updatedAt: Date
}


extension HealthSnapshot {
    /// Jobs being processed right now over every queue, from the exact counters: the one figure
    /// `status` and the dashboard footer call "in flight". It counts the jobs a lost worker
    /// still holds until the sweep hands them back (they are not done, and the RUNNING column
    /// counts them too), and jobs claimed ahead; the workers' own `in_flight` would not (a
    /// lost worker shows 0, a live one is a heartbeat, up to a second, old).
    public var jobsInFlight: Int64 { queues.reduce(0) { $0 + $1.counts.processing } }

    /// Decodes the JSON text `queue_health_snapshot()` returns.
    public static func decode(json: String) throws -> HealthSnapshot {
        let decoder = healthJSONDecoder()
        do {
            return try decoder.decode(HealthSnapshot.self, from: Data(json.utf8))
        } catch {
            throw QueueStoreError.database("the health snapshot did not decode (\(error)); is the database migrated by this version of queuetop?")
        }
    }
}

/// snake_case → camelCase as `.convertFromSnakeCase` does, except that a part starting with a digit
/// stays as it is: Foundation turns `error_rate_5m` into `errorRate5M`, so `errorRate5m` never
/// decoded and queue detail always said "nothing finished" for the 5-minute error rate.
struct SnakeCaseKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ snake: String) {
        let parts = snake.split(separator: "_", omittingEmptySubsequences: false)
        guard let first = parts.first, parts.count > 1 else { stringValue = snake; return }
        stringValue = String(first) + parts.dropFirst().map { part in
            guard let head = part.first, head.isLetter else { return String(part) }
            return head.uppercased() + part.dropFirst()
        }.joined()
    }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { nil }
}

/// The decoder of the health documents (`HealthSnapshot`, `HealthSummary`): snake_case keys,
/// ISO 8601 dates.
func healthJSONDecoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .custom { path in SnakeCaseKey(path.last!.stringValue) }
    decoder.dateDecodingStrategy = .iso8601
    return decoder
}

import Foundation
import JobFilter
@testable import QueueStore
import Postgres
import TerminalUI

/// A realistic, fixed dashboard state for the screen snapshots: five queues (one paused, one
/// with an open circuit, one with a unicode name), alerts, DLQ groups and jobs, a job with a
/// nested payload and five attempts, two lead migrations, workers on two hosts, audit rows.
/// Every time is relative to `now`, so renders are the same on every machine and every day.
enum DashboardFixture {
    static let now = Date(timeIntervalSince1970: 1_795_318_200)  // 2026-11-22 03:30:00 UTC

    static func ago(_ seconds: Double) -> Date { now.addingTimeInterval(-seconds) }

    static func id(_ n: Int) -> UUID {
        UUID(uuidString: String(format: "0193%04X-7C1E-7A2B-9F00-%012X", n, n * 7919))!
    }

    // MARK: Queues

    static let settings = QueueSettings(concurrencyLimit: 8, maxAttempts: 5, rateLimitPerS: nil, visibilityTimeoutS: 300,
                                        backoffBaseS: 2, backoffCapS: 600, backoffScheduleS: nil, dlqAlertThreshold: 100,
                                        oldestPendingAlertS: 600, errorRateAlert: 0.2)

    /// `completedPerHour` oldest first (24 values); the minute series is derived from the last hour's shape.
    static func queue(_ name: String, paused: Bool = false, circuit: String = "closed", settings: QueueSettings = settings,
                      counts: StatusCounts, oldest: Int64, lastHour: PeriodTotals, errorRate: Double?,
                      latency: (Double, Double, Double)?, hourly: [Int64], minutes: [Int64], alerts: [Alert] = [],
                      types: [TypeHealth] = [], forecast: DrainForecast? = nil) -> QueueHealth {
        let hourStart = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        let minuteStart = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60)
        return QueueHealth(
            name: name, paused: paused, settings: settings, counts: counts, oldestPendingSeconds: oldest,
            lastHour: lastHour, errorRate5m: errorRate, circuit: circuit,
            throughputPerHour: hourly.enumerated().map { i, v in
                HourPoint(hour: hourStart.addingTimeInterval(Double(i - 23) * 3600), completed: v, failed: v / 50, deadLettered: v / 400)
            },
            throughputPerMinute: minutes.enumerated().map { i, v in
                MinutePoint(minute: minuteStart.addingTimeInterval(Double(i - 59) * 60), completed: v, failed: 0)
            },
            latencyMs: latency.map { LatencySummary(p50: $0.0, p95: $0.1, p99: $0.2, avg: $0.0 * 1.3, max: Int64($0.2 * 3),
                                                    samples: 4_812, relativeError: 0.0488, estimated: ["p50", "p95", "p99"]) }
                ?? LatencySummary(p50: nil, p95: nil, p99: nil, avg: nil, max: nil, samples: 0, relativeError: 0.0488, estimated: []),
            alerts: alerts, types: types,
            forecast: forecast ?? DrainForecast(state: counts.pending + counts.processing == 0 ? "no_backlog" : "idle",
                                                backlog: counts.pending + counts.processing, arrived: 0, departed: 0,
                                                netPerMin: 0, clearsInMinutes: nil))
    }

    /// The emails queue's job types: a hostile name (an escape sequence a producer sent) and "other".
    static let emailTypes: [TypeHealth] = [
        TypeHealth(type: "send_welcome", completed: 3_120, failed: 41, p50: 150, p95: 610, p99: 1_900, samples: 3_120),
        TypeHealth(type: "send_digest", completed: 1_204, failed: 77, p50: 320, p95: 1_400, p99: 3_100, samples: 1_204),
        TypeHealth(type: "send_receipt", completed: 410, failed: 2, p50: 95, p95: 240, p99: 520, samples: 410),
        TypeHealth(type: "evil\u{1b}[2Jtype", completed: 3, failed: 9, p50: 12, p95: 30, p99: 31, samples: 3),
        TypeHealth(type: nil, completed: 75, failed: 1, p50: 210, p95: 700, p99: 900, samples: 75),
    ]

    /// A day with a morning ramp, as real traffic looks.
    static let dayShape: [Int64] = [120, 80, 60, 40, 35, 50, 210, 640, 1_480, 1_920, 2_050, 1_870,
                                     1_640, 1_720, 1_900, 2_210, 2_480, 2_050, 1_300, 900, 620, 410, 260, 180]

    static func minutes(_ base: Int64, wobble: [Int64]) -> [Int64] {
        (0..<60).map { base + wobble[$0 % wobble.count] }
    }

    static let emailsAlert = Alert(queue: "emails", kind: .dlqAboveThreshold,
                                   message: "emails: 412 jobs in the DLQ (threshold 100)", value: 412, threshold: 100)
    static let circuitAlert = Alert(queue: "store-sync", kind: .circuitOpen, message: "store-sync: circuit breaker is open",
                                    value: nil, threshold: nil)
    static let oldestAlert = Alert(queue: "campaign-messages", kind: .oldestPendingTooOld,
                                   message: "campaign-messages: oldest pending job has waited 11520 s (threshold 3600 s)",
                                   value: 11_520, threshold: 3_600)
    static let silentAlert = Alert(queue: nil, kind: .workerSilent,
                                   message: "worker app-2:977 (app-2 pid 977) silent for 95 s", value: 95, threshold: 30)

    static var queues: [QueueHealth] {
        var campaign = settings
        campaign.concurrencyLimit = 32
        campaign.rateLimitPerS = 50
        campaign.oldestPendingAlertS = 3_600
        var emails = settings
        emails.backoffScheduleS = [10, 60, 300, 900]
        var sync = settings
        sync.concurrencyLimit = nil
        sync.maxAttempts = 10
        return [
            queue("campaign-messages", settings: campaign,
                  counts: StatusCounts(pending: 1_234_567, processing: 32, completed: 2_400_000, deadLetter: 17),
                  oldest: 11_520, lastHour: PeriodTotals(completed: 61_250, failed: 40, deadLettered: 2), errorRate: 0.001,
                  latency: (42, 310, 1_200), hourly: dayShape.map { $0 * 30 }, minutes: minutes(1_000, wobble: [0, 20, -30, 10]),
                  alerts: [oldestAlert],
                  forecast: DrainForecast(state: "growing", backlog: 1_234_599, arrived: 640_000, departed: 612_000,
                                          netPerMin: -2_800, clearsInMinutes: nil)),
            queue("emails", settings: emails,
                  counts: StatusCounts(pending: 1_234, processing: 8, completed: 98_000, failed: 3, deadLetter: 412),
                  oldest: 245, lastHour: PeriodTotals(completed: 4_812, failed: 130, deadLettered: 21), errorRate: 0.023,
                  latency: (180, 850, 2_400), hourly: dayShape, minutes: minutes(80, wobble: [0, 12, 40, -20, 5, 60]),
                  alerts: [emailsAlert], types: emailTypes,
                  forecast: DrainForecast(state: "clears", backlog: 1_242, arrived: 700, departed: 820,
                                          netPerMin: 12, clearsInMinutes: 104)),
            queue("lead-migration", paused: true,
                  counts: StatusCounts(pending: 0, processing: 0, completed: 5_000), oldest: 0,
                  lastHour: PeriodTotals(completed: 0, failed: 0, deadLettered: 0), errorRate: nil, latency: nil,
                  hourly: Array(repeating: 0, count: 24), minutes: Array(repeating: 0, count: 60)),
            queue("store-sync", circuit: "open", settings: sync,
                  counts: StatusCounts(pending: 3, processing: 0, completed: 2_300, deadLetter: 17), oldest: 12,
                  lastHour: PeriodTotals(completed: 96, failed: 41, deadLettered: 17), errorRate: 0.87,
                  latency: (1_450, 4_100, 9_800), hourly: dayShape.map { $0 / 20 }, minutes: minutes(2, wobble: [0, 1, 0, 0, 2]),
                  alerts: [circuitAlert]),
            queue("webhooks-日本",
                  counts: StatusCounts(pending: 12, processing: 1, completed: 8_100, deadLetter: 2), oldest: 3,
                  lastHour: PeriodTotals(completed: 340, failed: 2, deadLettered: 0), errorRate: 0.005,
                  latency: (0.4, 3, 11), hourly: dayShape.map { $0 / 6 }, minutes: minutes(5, wobble: [0, 2, 1, 3])),
        ]
    }

    // MARK: Workers, circuits, migrations

    static let workers: [WorkerInfo] = [
        WorkerInfo(id: "app-1:4242", host: "app-1", pid: 4242, queues: ["emails", "webhooks-日本"], concurrency: 16, inFlight: 9, buffered: 3,
                   status: "running", startedAt: ago(86_400 * 2 + 3_700), lastSeen: ago(1)),
        WorkerInfo(id: "app-1:4243", host: "app-1", pid: 4243, queues: ["campaign-messages"], concurrency: 32, inFlight: 32, buffered: 0,
                   status: "running", startedAt: ago(7_260), lastSeen: ago(2)),
        WorkerInfo(id: "app-2:977", host: "app-2", pid: 977, queues: [], concurrency: 4, inFlight: 0, buffered: 0,
                   status: "lost", startedAt: ago(40_000), lastSeen: ago(95)),
        WorkerInfo(id: "app-2:1001", host: "app-2", pid: 1001, queues: ["store-sync"], concurrency: 2, inFlight: 0, buffered: 0,
                   status: "draining", startedAt: ago(600), lastSeen: ago(3)),
    ]

    // MARK: Busy view

    /// What app-1:4242 (9 in flight) holds: the first five, oldest first, one with a tenant.
    static let inFlight: [InFlightJob] = [
        InFlightJob(id: id(41), queue: "emails", jobType: "send_welcome", tenant: "shop-a", workerID: "app-1:4242",
                    startedAt: ago(754), heartbeatAt: ago(4)),
        InFlightJob(id: id(42), queue: "emails", jobType: "send_receipt", tenant: nil, workerID: "app-1:4242",
                    startedAt: ago(61), heartbeatAt: ago(61)),
        InFlightJob(id: id(43), queue: "webhooks-日本", jobType: "deliver", tenant: "shop-b", workerID: "app-1:4242",
                    startedAt: ago(12), heartbeatAt: ago(12)),
        InFlightJob(id: id(44), queue: "emails", jobType: "send_digest", tenant: nil, workerID: "app-1:4242",
                    startedAt: ago(3), heartbeatAt: ago(3)),
        InFlightJob(id: id(45), queue: "campaign-messages", jobType: "send", tenant: nil, workerID: "app-1:4243",
                    startedAt: ago(2), heartbeatAt: ago(2)),
    ]

    /// The Workers screen with the busy view loaded, app-1:4243 quieted, and (`browsing`) the
    /// cursor moved into app-1:4242's jobs, on the second.
    static func workersState(browsing: Bool) -> DashboardState {
        var state = state(.workers)
        state.snapshot?.workers[0].inFlight = 4
        state.snapshot?.workers[0].buffered = 1
        state.snapshot?.workers[1].status = "quiet"
        state.workerJobs = inFlight
        if browsing {
            state.busyWorker = "app-1:4242"
            state.cursor[.workers] = 1
        }
        return state
    }

    static let circuits: [CircuitInfo] = [
        CircuitInfo(queue: "emails", state: "closed", consecutiveFailures: 0, openedAt: nil, reopenAt: nil, updatedAt: ago(3_600)),
        CircuitInfo(queue: "store-sync", state: "open", consecutiveFailures: 7, openedAt: ago(40), reopenAt: now.addingTimeInterval(20),
                    updatedAt: ago(40)),
        CircuitInfo(queue: "webhooks-日本", state: "half_open", consecutiveFailures: 3, openedAt: ago(400), reopenAt: ago(100),
                    updatedAt: ago(100)),
    ]

    /// LeadMigration is decoded from the snapshot's JSON (it has no memberwise initialiser), the
    /// way the dashboard gets it.
    static var migrations: [LeadMigration] {
        let iso = ISO8601DateFormatter()
        func t(_ seconds: Double) -> String { "\"\(iso.string(from: ago(seconds)))\"" }
        let json = """
        [{"operation_id": 41, "run_id": "5f1c2d3e-0000-4000-8000-000000000041", "run_name": "black-friday-reactivation",
          "funnel_id": "5f1c2d3e-0000-4000-8000-0000000000f1", "column_id": "5f1c2d3e-0000-4000-8000-0000000000c1",
          "status": "running", "moved": 41200, "remaining": 78800, "total": 120000, "batches": 412,
          "last_batch_at": \(t(2)), "last_batch_count": 100, "batch_size": 100, "created_by": "ana@ops-1",
          "created_at": \(t(760)), "started_at": \(t(720)), "finished_at": null, "cancelled_at": null, "error": null},
         {"operation_id": 40, "run_id": "5f1c2d3e-0000-4000-8000-000000000040", "run_name": "nov-cleanup",
          "funnel_id": "5f1c2d3e-0000-4000-8000-0000000000f2", "column_id": "5f1c2d3e-0000-4000-8000-0000000000c2",
          "status": "completed", "moved": 5000, "remaining": 0, "total": 5000, "batches": 50,
          "last_batch_at": \(t(1_810)), "last_batch_count": 100, "batch_size": 100, "created_by": "bruno@ops-2",
          "created_at": \(t(2_500)), "started_at": \(t(2_400)), "finished_at": \(t(1_800)), "cancelled_at": null, "error": null}]
        """
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return try! decoder.decode([LeadMigration].self, from: Data(json.utf8))
    }

    static var snapshot: HealthSnapshot {
        let qs = queues
        return HealthSnapshot(
            generatedAt: ago(3), queues: qs, alerts: [emailsAlert, oldestAlert, circuitAlert, silentAlert],
            errorTypes: [
                ErrorTypeSummary(queue: "emails", errorType: "smtp_error", count: 389, lastSeen: ago(40), sampleMessage: "SMTP 421 4.7.0 try again later",
                                 fingerprint: "3f2a9c0b1d4e", pattern: "SMTP <n> <n> try again later"),
                ErrorTypeSummary(queue: "store-sync", errorType: "http_503", count: 41, lastSeen: ago(45), sampleMessage: "upstream returned 503",
                                 fingerprint: "0c1d2e3f4a5b", pattern: "upstream returned <n>"),
                // Hostile bytes in a sample: the panel prints them sanitised.
                ErrorTypeSummary(queue: "emails", errorType: "rate_limited", count: 21, lastSeen: ago(600), sampleMessage: "429 Too Many\u{1b}[2J Requests",
                                 fingerprint: "9a8b7c6d5e4f", pattern: "<n> Too Many [<n>J Requests"),
                ErrorTypeSummary(queue: "emails", errorType: "smtp_error", count: 7, lastSeen: ago(900), sampleMessage: "SMTP 550 mailbox 'ann@example.com' full",
                                 fingerprint: "5e4f3a2b1c0d", pattern: "SMTP <n> mailbox <str> full"),
                // From a database before 0025: no pattern, the type alone names the entry.
                ErrorTypeSummary(queue: "emails", errorType: "invalid_recipient", count: 2, lastSeen: ago(7_300), sampleMessage: "550 no such user"),
            ],
            workers: workers, workerCounts: WorkerCounts(live: 3, lost: 1), circuitBreakers: circuits, leadMigrations: migrations)
    }

    // MARK: DLQ

    static let smtpKey = DLQGroupKey(queue: "emails", fingerprint: "5d41402abc4b", errorType: "smtp_error")

    static let groups: [DLQGroup] = [
        DLQGroup(queue: "emails", errorType: "smtp_error", count: 389, firstErrorAt: ago(5 * 3_600 + 120), lastErrorAt: ago(40),
                 sampleMessage: "SMTP 421 4.7.0 try again later (mx1.example.net)", fingerprint: "5d41402abc4b",
                 pattern: "SMTP <n> <n> try again later (mx<n>.example.net)",
                 lifecycle: ErrorGroupLifecycle(state: .regressed, regressedAt: ago(40), isNew: true)),
        DLQGroup(queue: "emails", errorType: "rate_limited", count: 21, firstErrorAt: ago(3_000), lastErrorAt: ago(600),
                 sampleMessage: "429 Too Many Requests", fingerprint: "7d793037a076", pattern: "<n> Too Many Requests",
                 lifecycle: ErrorGroupLifecycle(state: .snoozed, snoozedUntil: ago(-3_000))),
        DLQGroup(queue: "emails", errorType: nil, count: 2, firstErrorAt: ago(86_400 * 3), lastErrorAt: ago(86_400),
                 sampleMessage: "worker died twice while processing", fingerprint: "0cc175b9c0f1",
                 lifecycle: ErrorGroupLifecycle(ackedAt: ago(3_600))),
        DLQGroup(queue: "store-sync", errorType: "http_503", count: 17, firstErrorAt: ago(900), lastErrorAt: ago(45),
                 sampleMessage: "POST https://stores.example.com/api/v2/sync returned 503 Service Unavailable: upstream connect error",
                 fingerprint: "92eb5ffee6ae",
                 pattern: "POST https://stores.example.com/api/v<n>/sync returned <n> Service Unavailable: upstream connect error",
                 lifecycle: ErrorGroupLifecycle(isNew: true)),
        DLQGroup(queue: "campaign-messages", errorType: "template_missing", count: 17, firstErrorAt: ago(8_000), lastErrorAt: ago(7_000),
                 sampleMessage: "template 'nov-promo-v3' not found", fingerprint: "e4da3b7fbbce",
                 pattern: "template <str> not found", lifecycle: ErrorGroupLifecycle(state: .resolved)),
    ]

    static var jobs: [DLQJob] {
        (1...6).map { n in
            DLQJob(id: id(n), queue: "emails", jobType: n % 3 == 0 ? "send_digest" : "send_welcome", errorType: "smtp_error",
                   errorMessage: n == 2 ? "SMTP 421 4.7.0 try again later\n(mx2.example.net)" : "SMTP 421 4.7.0 try again later",
                   attemptCount: 5, maxAttempts: 5, lastErrorAt: ago(Double(40 + n * 300)), createdAt: ago(Double(3_600 * n + 200)))
        }
    }

    /// The dead-letter job the DLQ opens: a nested payload, error details, five failed attempts.
    static var jobDetail: JobDetail {
        let job = jobs[0]
        return JobDetail(
            job: JobInspection(
                id: job.id, queue: job.queue, jobType: job.jobType, status: "dead_letter", priority: 0,
                attemptCount: job.attemptCount, maxAttempts: job.maxAttempts, createdAt: job.createdAt, runAt: ago(60),
                startedAt: ago(52), lastErrorAt: ago(40), errorType: job.errorType, errorMessage: job.errorMessage,
                payloadJSON: #"{"to": {"name": "Zoë Martins", "email": "zoe@example.com"}, "template": "welcome-v2", "locale": "pt-BR", "vars": {"first_name": "Zoë", "plan": "pro", "trial_days": 14, "features": ["reports", "api", "sso"], "referrer": null}, "headers": {}, "tags": [], "attempt_budget": 5}"#,
                errorDetailsJSON: #"{"smtp_code": 421, "enhanced": "4.7.0", "mx": "mx1.example.net", "retry_after_s": 300}"#),
            attempts: (1...5).map { n in
                JobDetail.Attempt(attempt: n, errorType: n == 1 ? "timeout" : "smtp_error",
                                  message: n == 1 ? "connect timeout after 10s" : "SMTP 421 4.7.0 try again later",
                                  worker: n % 2 == 0 ? "app-1:4242" : "app-2:977", failedAt: ago(Double(40 + (5 - n) * 700)))
            })
    }

    /// A store sync that completed with a result, the cache-first kind (issue 10): a tenant, a
    /// dedup key, an expiry it beat, and one earlier failed attempt (its error is history).
    static var completedJob: JobDetail {
        JobDetail(
            job: JobInspection(
                id: id(77), queue: "store-sync", jobType: "sync_store", status: "completed", priority: 5,
                attemptCount: 1, maxAttempts: 5, dedupKey: "store:7:2026-11-22T03", tenant: "shop-acme",
                createdAt: ago(312), runAt: ago(290), startedAt: ago(289), completedAt: ago(287),
                expiresAt: ago(-1_488), lastErrorAt: ago(300), processingMs: 2_140,
                errorType: "http_503", errorMessage: "upstream returned 503",
                payloadJSON: #"{"store_id": 7, "since": "2026-11-22T02:00:00Z", "full": false}"#,
                resultJSON: #"{"synced": 1284, "skipped": 3, "cursor": "c_9f2e41", "warnings": ["sku 88-1 has no price"]}"#),
            attempts: [JobDetail.Attempt(attempt: 1, errorType: "http_503", message: "upstream returned 503",
                                         worker: "app-1:4242", failedAt: ago(300))])
    }

    /// A campaign message nobody got to in time: cancelled as expired, never run.
    static var expiredJob: JobDetail {
        JobDetail(
            job: JobInspection(
                id: id(78), queue: "campaign-messages", jobType: "send_campaign", status: "cancelled", priority: 0,
                attemptCount: 0, maxAttempts: 5, tenant: "shop-globex", createdAt: ago(2_700), runAt: ago(2_700),
                completedAt: ago(1_500), expiresAt: ago(1_500), cancelReason: "expired",
                payloadJSON: #"{"campaign": "nov-promo-v3", "to": "+5511987654321", "channel": "sms"}"#),
            attempts: [])
    }

    // MARK: Tenants

    /// The emails queue's tenants: one shop flooding at its in-flight cap, a long name, a unicode
    /// name, and a tenant with only running jobs (no pending age).
    static let emailsTenants = QueueTenantReport(
        queue: "emails", caps: TenantCaps(concurrencyLimit: 4, ratePerSecond: 5),
        tenants: [
            TenantBacklog(tenant: "shop-acme", pending: 812, processing: 4, oldestPendingSeconds: 245.6),
            TenantBacklog(tenant: "shop-globex", pending: 301, processing: 2, oldestPendingSeconds: 130),
            TenantBacklog(tenant: "shop-초롱-마켓", pending: 96, processing: 1, oldestPendingSeconds: 61),
            TenantBacklog(tenant: "tenant-with-a-very-long-name-from-an-external-marketplace-0042", pending: 25,
                          processing: 0, oldestPendingSeconds: 12),
            TenantBacklog(tenant: "shop-initech", pending: 0, processing: 1, oldestPendingSeconds: nil),
        ],
        expired: ExpiredCounts(lastHour: 3, last24h: 41))

    // MARK: Audit

    static let audit: [AuditEntry] = [
        AuditEntry(id: 4, at: ago(30), databaseRole: "worker_app", actor: nil, action: "job.expire",
                   filter: JSONText(#"{"queue": "campaign-messages", "ids": [\#((1...20).map { "\"\(id(100 + $0).uuidString.lowercased())\"" }.joined(separator: ", "))]}"#),
                   affected: 57),
        AuditEntry(id: 3, at: ago(120), databaseRole: "queuetop_ops", actor: "ana@ops-1", action: "requeue_dlq",
                   filter: JSONText(#"{"queue": "emails", "error_type": "rate_limited", "reset_attempts": false}"#), affected: 412),
        AuditEntry(id: 2, at: ago(1_500), databaseRole: "queuetop_ops", actor: "bruno@ops-2", action: "pause_queue",
                   filter: JSONText(#"{"queue": "lead-migration"}"#), affected: 1),
        AuditEntry(id: 1, at: ago(90_000), databaseRole: "postgres", actor: nil, action: "delete_dlq",
                   filter: JSONText(#"{"ids": ["0193a1b2-7c1e-7a2b-9f00-000000001ef7"]}"#), affected: 1),
    ]

    // MARK: Timeline

    /// A 3 a.m. incident, newest first: the requeue, the alert it answered, the deploy that
    /// started it, and earlier traffic; one audit filter carries an escape sequence (drawn escaped).
    static let timeline: [TimelineEntry] = [
        TimelineEntry(at: ago(120), source: .audit, event: "dlq.requeue", queue: "emails", actor: "ana",
                      summary: #"{"queue": "emails", "error_type": "rate_limited", "reset_attempts": false}"#, id: 3,
                      jobID: nil, affected: 412, detail: JSONText("{}")),
        TimelineEntry(at: ago(600), source: .alert, event: "alert.firing", queue: "emails", actor: nil,
                      summary: "emails: 412 jobs in the DLQ (threshold 100)", id: 12, jobID: nil, affected: 0,
                      detail: JSONText("{}")),
        TimelineEntry(at: ago(1_500), source: .mark, event: "deploy", queue: nil, actor: "ci_deploy",
                      summary: "deploy v42 (api 3f9c2e1)", id: 7, jobID: nil, affected: 0, detail: JSONText("{}")),
        // Cancels as the database records them (filter in `detail`, its JSON text as `summary`):
        // one pending job, one running job whose worker id carries an escape sequence, and a
        // bulk cancel by filter that was stopped early.
        TimelineEntry(at: ago(1_700), source: .audit, event: "jobs.cancel", queue: nil, actor: "ana",
                      summary: #"{"where": "queue:emails state:pending", "as_of": "2026-11-22 03:01:40+00", "outcome": "stopped", "done": 1200}"#,
                      id: 5, jobID: nil, affected: 1_200,
                      detail: JSONText(#"{"where": "queue:emails state:pending", "as_of": "2026-11-22 03:01:40+00", "outcome": "stopped", "done": 1200}"#)),
        TimelineEntry(at: ago(1_750), source: .audit, event: "job.cancel", queue: nil, actor: "bruno",
                      summary: #"{"ids": ["0193a1b2-7c1e-7a2b-9f00-000000000008"], "running": true, "worker_id": "app-1:42\u001b[2J"}"#,
                      id: 4, jobID: id(8), affected: 1,
                      detail: JSONText(#"{"ids": ["0193a1b2-7c1e-7a2b-9f00-000000000008"], "running": true, "worker_id": "app-1:42\u001b[2J"}"#)),
        TimelineEntry(at: ago(1_800), source: .audit, event: "job.cancel", queue: nil, actor: "bruno",
                      summary: #"{"ids": ["0193a1b2-7c1e-7a2b-9f00-000000000007"]}"#, id: 2, jobID: id(7), affected: 1,
                      detail: JSONText(#"{"ids": ["0193a1b2-7c1e-7a2b-9f00-000000000007"]}"#)),
        TimelineEntry(at: ago(5_400), source: .alert, event: "alert.cleared", queue: "store-sync", actor: nil,
                      summary: "store-sync: circuit breaker is open", id: 11, jobID: nil, affected: 0, detail: JSONText("{}")),
        TimelineEntry(at: ago(7_000), source: .alert, event: "alert.firing", queue: "store-sync", actor: nil,
                      summary: "store-sync: circuit breaker is open", id: 10, jobID: nil, affected: 0, detail: JSONText("{}")),
        TimelineEntry(at: ago(9_000), source: .audit, event: "schedule.disable", queue: nil, actor: "ana",
                      summary: "{\"name\": \"legacy-cleanup\u{1B}[31m\"}", id: 1, jobID: nil, affected: 1,
                      detail: JSONText("{}")),
        TimelineEntry(at: ago(30_000), source: .mark, event: "release", queue: nil, actor: "ci_deploy",
                      summary: "release 2026.11.21", id: 6, jobID: nil, affected: 0, detail: JSONText("{}")),
    ]

    // MARK: Schedules

    /// One of each kind the operator meets: healthy, deduplicated, failing and due with ticks
    /// coalesced (no ticker ran), and disabled and never run.
    static let schedules: [Schedule] = [
        Schedule(name: "crm-sync", cron: "*/5 * * * *", queue: "store-sync", jobType: "sync_crm",
                 payload: JSONText(#"{"full": false}"#), priority: 0, enabled: true, nextRunAt: ago(40),
                 lastRunAt: ago(940), lastJobID: id(40),
                 lastOutcome: "error: queue store-sync does not accept jobs (circuit open) (coalesced 3 missed ticks)",
                 missedTicks: 3),
        Schedule(name: "digest-hourly", cron: "0 * * * *", queue: "emails", jobType: "send_digest",
                 payload: JSONText(#"{"template": "digest", "locale": "pt-BR"}"#), priority: 5, enabled: true,
                 nextRunAt: ago(-1_800), lastRunAt: ago(1_800), lastJobID: id(41), lastOutcome: "deduplicated", missedTicks: 0),
        Schedule(name: "legacy-cleanup", cron: "30 4 * * 0", queue: "maintenance", jobType: "purge_legacy",
                 payload: JSONText("{}"), priority: 0, enabled: false, nextRunAt: ago(-300_000),
                 lastRunAt: nil, lastJobID: nil, lastOutcome: nil, missedTicks: 0),
        Schedule(name: "nightly-report", cron: "0 2 * * *", queue: "reports", jobType: "build_report",
                 payload: JSONText(#"{"period": "day", "recipients": ["ops@example.com"]}"#), priority: 0, enabled: true,
                 nextRunAt: ago(-81_000), lastRunAt: ago(5_400), lastJobID: id(42), lastOutcome: "enqueued", missedTicks: 0),
    ]

    // MARK: States

    /// The dashboard connected, refreshed 3 s ago, on `screen`, with lists loaded and the cursor
    /// on the "emails" queue (the one with the DLQ alert).
    static func state(_ screen: Screen = .overview, width: Int = 80) -> DashboardState {
        var state = DashboardState(now: now)
        state.snapshot = snapshot
        state.lastRefreshAt = ago(3)
        state.connection = .connected
        state.screen = screen
        state.selectedQueue = "emails"
        state.cursor[.overview] = 1
        state.dlqGroups = groups
        state.audit = audit
        state.schedules = schedules
        state.cursor[.schedules] = 1
        state.queueTenants = emailsTenants
        state.timeline = timeline
        state.cursor[.timeline] = 2
        state.chartMarks = timeline.filter(\.marksChart).reversed()
        return state
    }

    /// The Log screen: the embedded pool's events, one of them quoting a hostile handler error
    /// (an ESC sequence and a newline: drawn escaped, on its row), and a pool that reported a
    /// start-up failure (footer).
    static func logState() -> DashboardState {
        var state = state(.log)
        state.poolLog = [
            PoolLogLine(time: ago(300), level: "info", message: "worker host-1:42 started: every queue, concurrency 10"),
            PoolLogLine(time: ago(120), level: "warning", message: "job \(id(7).uuidString.lowercased()) (emails/send) failed attempt 1 of 5, will retry: http_503: upstream down",
                        queue: "emails", jobID: id(7),
                        jobEvent: .init(type: "send", outcome: "retry", attempt: "1", errorType: "http_503", error: "upstream down")),
            PoolLogLine(time: ago(60), level: "error", message: "job \(id(8).uuidString.lowercased()) (emails/send) to DLQ: smtp_error: 550 \u{1b}[2Jno\nsuch user",
                        queue: "emails", jobID: id(8),
                        jobEvent: .init(type: "send", outcome: "dead", attempt: "5", errorType: "smtp_error",
                                        error: "550 \u{1b}[2Jno\nsuch user")),
            PoolLogLine(time: ago(5), level: "warning", message: "circuit breaker for queue store-sync: open", queue: "store-sync"),
        ]
        state.cursor[.log] = 1
        state.poolStartupError = nil
        return state
    }

    static func dlqJobsState() -> DashboardState {
        var state = state(.dlq)
        state.dlqLevel = .jobs(smtpKey)
        state.dlqJobs = jobs
        state.cursor[.dlq] = 2
        state.marked = [id(1), id(3)]
        return state
    }

    /// `:job ID` over the overview, the job loaded (or still loading when `detail` is nil).
    static func openedJobState(_ detail: JobDetail?, id: UUID? = nil, scroll: Int = 0) -> DashboardState {
        var state = state(.overview)
        state.openedJob = OpenedJob(id: id ?? detail!.job.id, detail: detail)
        state.detailScroll = scroll
        return state
    }

    static func jobDetailState(scroll: Int = 0) -> DashboardState {
        var state = state(.dlq)
        state.dlqLevel = .job(smtpKey, id(1))
        state.dlqJobs = jobs
        state.jobDetail = jobDetail
        state.detailScroll = scroll
        return state
    }

    /// The Jobs screen on a state tab, a page loaded, with a filter and a count.
    static func jobsState(_ tab: JobState?, filter: String = "queue:emails", window: WindowScan? = nil) -> DashboardState {
        var state = state(.jobs)
        state.jobs.stateTab = tab
        state.jobs.filter = try! JobFilter.parse(filter)
        let rows: [JobSummary] = (1...6).map { n in
            let st = tab ?? [.pending, .running, .dead, .cancelled, .scheduled, .completed][n - 1]
            return JobSummary(
                id: id(n), queue: n % 3 == 0 ? "webhooks-日本" : "emails", jobType: n % 2 == 0 ? "send_campaign" : "send_email",
                state: st, priority: n % 2 == 0 ? 10 : 0, tenant: n == 4 ? nil : "shop-\(n)", attemptCount: st == .dead ? 5 : st == .retrying ? 2 : 0,
                createdAt: ago(Double(n) * 700), runAt: st == .scheduled || st == .retrying ? now.addingTimeInterval(Double(n) * 90) : ago(Double(n) * 700),
                startedAt: st == .running ? ago(Double(n) * 300) : nil, heartbeatAt: st == .running ? ago(Double(n)) : nil,
                lockedBy: st == .running ? "app-\(n % 2 + 1):4242" : nil, cancelReason: st == .cancelled ? (n % 2 == 0 ? "operator" : "expired") : nil,
                errorType: st == .dead || st == .retrying ? "smtp_error" : nil,
                errorMessage: st == .dead || st == .retrying ? "550 mailbox unavailable\u{1b}[31m for user\(n)@example.com" : nil)
        }
        state.jobs.page = JobSearchPage(jobs: rows, next: id(99), window: window)
        state.jobs.count = JobCount(value: 10_000, exact: false)
        state.jobs.loadedRequest = state.jobs.request
        state.cursor[.jobs] = 1
        state.marked = [id(2)]
        return state
    }
}

import Foundation

/// The shapes of the demo's queues, taken from the seed documents with time scaled down (minutes
/// become seconds) so that retries, backoff and dead-lettering happen while you watch. The seeder
/// and the producer both read these, so the backfilled history, the seeded DLQ and the live
/// arrivals of a queue always agree on job type, latency and error mix.
struct DemoQueueProfile: Sendable {
    let name: String
    let jobType: String
    /// `update_queue_settings` JSON: concurrency, attempts, backoff, alert thresholds.
    let settings: String
    let maxAttempts: Int
    let latencyP50: Double
    let latencyP99: Double
    /// Error type -> probability per attempt, as the `simulate` handler reads them from the demo's
    /// worker config (scripts/lib/demo-workers.json). A message may hold `{n:LOW-HIGH}`.
    let errors: [(type: String, probability: Double, message: String)]
    /// Minimum wait a rate-limited attempt asks for (Retry-After), seconds.
    let retryAfterSeconds: Int?
    /// Completions per hour in the backfilled history: the daily trough and peak.
    let historyPerHour: (low: Int, high: Int)
    /// Dead-lettered jobs seeded per error type (a few hundred in all, for triage). A message may
    /// hold `{n:LOW-HIGH}`: each job gets its own numbers, as free-text failures do.
    let dlq: [(type: String, count: Int, message: String)]
    /// The job's own payload fields; `{n}` becomes the job's sequence number.
    let fields: [String: String]
    /// What the simulated work returns (stored as the job's result), as JSON; nil: no result.
    var resultJSON: String? = nil

    /// A payload for job number `n`: the message's own fields, shaped like the seeds' messages.
    /// How the work goes (latency, errors) is the handler's config, never the payload's.
    func payload(_ n: Int, overriding extra: [String: String] = [:]) -> String {
        var object: [String: Any] = [:]
        for (key, template) in fields { object[key] = template.replacingOccurrences(of: "{n}", with: String(n)) }
        for (key, value) in extra { object[key] = value }
        return DemoWorkload.json(object)
    }

    /// This queue's `simulate` handler config (latency and error mix), in the demo's worker config.
    var simulation: [String: Any] {
        var errorSpec: [String: Any] = [:]
        for e in errors { errorSpec[e.type] = ["p": e.probability, "message": e.message] }
        var out: [String: Any] = ["latency_ms": ["p50": latencyP50, "p99": latencyP99], "errors": errorSpec]
        if let retryAfterSeconds { out["retry_after_s"] = retryAfterSeconds }
        if let resultJSON, let result = try? JSONSerialization.jsonObject(with: Data(resultJSON.utf8)) { out["result"] = result }
        return out
    }
}

enum DemoWorkload {
    /// Seed 000: 500–5,000 emails an hour, zero loss; SMTP, rate-limit and AI-timeout failures.
    static let emails = DemoQueueProfile(
        name: "emails", jobType: "send_email",
        settings: #"{"max_attempts": 5, "backoff_base_s": 2, "backoff_cap_s": 30, "dlq_alert_threshold": 150}"#, maxAttempts: 5,
        latencyP50: 120, latencyP99: 900,
        errors: [("smtp_error", 0.05, "SMTP 451 4.3.0 temporary local problem, try again later"),
                 ("rate_limited", 0.03, "429 Too Many Requests from the SMTP relay"),
                 ("ai_timeout", 0.02, "AI reply generation timed out after 30 s"),
                 ("invalid_payload", 0.004, "invalid payload: recipient address is empty"),
                 // Free text under one vague type, as a handler that rethrows whatever it caught
                 // writes it: only fingerprints tell these two families apart.
                 ("error", 0.01, "timeout after {n:30000-30999} ms for order {n:10000-99999}")],
        retryAfterSeconds: 3, historyPerHour: (500, 5000),
        dlq: [("smtp_error", 120, "SMTP 550 5.1.1 mailbox unavailable after 5 attempts"),
              ("ai_timeout", 60, "AI reply generation timed out after 30 s"),
              ("rate_limited", 40, "429 Too Many Requests from the SMTP relay"),
              ("invalid_payload", 25, "invalid payload: recipient address is empty"),
              ("error", 45, "timeout after {n:30000-30999} ms for order {n:10000-99999}"),
              ("error", 20, "IMAP fetch failed for mailbox vendas{n:1-40}@loja.example: connection reset by peer")],
        fields: ["to": "cliente{n}@example.com", "from": "vendas@loja.example", "subject": "Re: pedido #{n}",
                 "template": "order_reply", "email_id": "msg-{n}", "mailbox": "vendas@loja.example"])

    /// Seed 001: Shopify/Klaviyo store sync, at most 3 at once and one per store (the store is the
    /// tenant), 3 tries, a store synced within the period answered from its last result.
    static let storeSync = DemoQueueProfile(
        name: "store_sync", jobType: "sync_store",
        settings: #"{"concurrency_limit": 3, "tenant_concurrency_limit": 1, "max_attempts": 3, "backoff_base_s": 3, "backoff_cap_s": 20}"#, maxAttempts: 3,
        latencyP50: 1200, latencyP99: 5000,
        errors: [("store_api_403", 0.07, "Shopify API answered 403 Forbidden (overloaded)"),
                 ("edge_timeout", 0.03, "sync-store Edge Function timed out after 150 s")],
        retryAfterSeconds: nil, historyPerHour: (100, 300),
        dlq: [("store_api_403", 35, "Shopify API answered 403 Forbidden (overloaded)"),
              ("edge_timeout", 15, "sync-store Edge Function timed out after 150 s")],
        fields: ["store_id": "loja-{n}", "platform": "shopify", "data_type": "orders_and_customers",
                 "period_start": "2026-11-01", "period_end": "2026-11-30"],
        // Seed 001's cache: what a repeated request within the period is answered with.
        resultJSON: #"{"synced": true, "orders": 42, "customers": 7, "source": "shopify"}"#)

    /// Seeds 002 and 004: campaign messages, 5 in parallel, retries after 5/15/30 min (here
    /// seconds), OpenRouter rate limits honoured through Retry-After. Seed 000's "rate limiting per
    /// shop": each shop (tenant) at most 2 in flight, so one shop's flood cannot take all 5.
    static let campaigns = DemoQueueProfile(
        name: "campaigns", jobType: "send_campaign_message",
        settings: #"{"concurrency_limit": 5, "tenant_concurrency_limit": 2, "max_attempts": 4, "backoff_schedule_s": [5, 15, 30]}"#, maxAttempts: 4,
        latencyP50: 450, latencyP99: 3000,
        errors: [("rate_limited", 0.10, "OpenRouter 429: rate limit exceeded"),
                 ("ai_timeout", 0.04, "generateMessage timed out after 30 s"),
                 ("send_failed", 0.02, "internal-send-ai-message answered 502")],
        retryAfterSeconds: 2, historyPerHour: (300, 2000),
        dlq: [("rate_limited", 30, "OpenRouter 429: rate limit exceeded"),
              ("ai_timeout", 25, "generateMessage timed out after 30 s"),
              ("send_failed", 10, "internal-send-ai-message answered 502")],
        fields: ["campaign_run_id": "campanha-{n}", "lead_id": "lead-{n}", "channel": "whatsapp",
                 "template": "prospeccao_v3", "phone": "+55119{n}"])

    static let queues = [emails, storeSync, campaigns]

    /// The seeds' cron jobs as queuetop schedules, scaled down like the rest (minutes become
    /// seconds, hours minutes): seed 000's five pg_cron jobs (migration 022) and seed 001's
    /// 10-second sync worker, which is already in seconds and stays so.
    static let schedules: [(name: String, cron: String, queue: String, jobType: String, payload: String)] = [
        ("fetch-emails", "*/5 * * * * *", "emails", "fetch_emails", #"{"mailbox": "vendas@loja.example"}"#),
        ("process-queue", "* * * * * *", "emails", "process_queue", #"{"batch_size": 50}"#),
        ("aggregate-queue-metrics", "*/5 * * * * *", maintenanceQueue, "aggregate_queue_metrics", #"{"window": "5m"}"#),
        ("cleanup-completed-jobs", "0 3 * * * *", maintenanceQueue, "cleanup_completed_jobs", #"{"older_than_days": 7}"#),
        ("cleanup-stuck-jobs", "*/15 * * * * *", maintenanceQueue, "cleanup_stuck_jobs", #"{"stuck_after_min": 10}"#),
        ("sync-worker", "*/10 * * * * *", "store_sync", "sync_worker", #"{"max_stores": 3}"#),
    ]
    /// Where the seed's housekeeping schedules enqueue.
    static let maintenanceQueue = "maintenance"
    static let maintenanceSettings = #"{"max_attempts": 3, "backoff_base_s": 2}"#

    /// scripts/lib/demo-workers.json, generated from the profiles (DemoWorkloadTests checks the
    /// file is current): each job type's `simulate` handler with its queue's latency and errors,
    /// and the schedules' job types as quick, quiet simulations.
    static var workerConfig: String {
        var handlers: [String: Any] = [:]
        for q in queues { handlers[q.jobType] = q.simulation.merging(["kind": "simulate"]) { a, _ in a } }
        for s in schedules {
            handlers[s.jobType] = ["kind": "simulate", "latency_ms": ["p50": 40, "p99": 200]]
        }
        let config: [String: Any] = ["circuit_breaker": ["failure_threshold": 8, "cool_down_s": 10], "handlers": handlers]
        let data = (try? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Lead migrations are paced by the producer (seed 003's cron calling
    /// process_lead_migration_batch), not by the pool, which would finish them in a blink. Their
    /// queue is paused so the pool leaves the queued jobs alone; resuming it lets the pool finish
    /// every migration at full speed.
    static let leadMigrationsQueue = "lead_migrations"
    static let leadMigrationsSettings = #"{"paused": true, "oldest_pending_alert_s": 86400}"#

    static let funnelName = "Prospecção"
    static let columns = ["Novos", "Contatados", "Qualificados"]
    /// Seed 003's run, and a larger one so the progress bars and cancel have something to do.
    static let leadRuns: [(name: String, leads: Int, column: Int, batchSize: Int)] = [
        ("Restaurantes - 10/12/2025 09:07", 992, 1, 100),
        ("Clínicas odontológicas - São Paulo", 60_000, 2, 250),
    ]

    static func json(_ object: [String: Any]) -> String {
        // Sorted keys: the same profile always gives the same text (stable payloads and settings).
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

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
    /// Error type -> probability per attempt, as the `simulate` handler reads them.
    let errors: [(type: String, probability: Double, message: String)]
    /// Minimum wait a rate-limited attempt asks for (Retry-After), seconds.
    let retryAfterSeconds: Int?
    /// Completions per hour in the backfilled history: the daily trough and peak.
    let historyPerHour: (low: Int, high: Int)
    /// Dead-lettered jobs seeded per error type (a few hundred in all, for triage).
    let dlq: [(type: String, count: Int, message: String)]
    /// The job's own payload fields; `{n}` becomes the job's sequence number.
    let fields: [String: String]

    /// A payload for job number `n`: its own fields plus the simulation.
    func payload(_ n: Int, overriding extra: [String: String] = [:]) -> String {
        var object = simulation
        for (key, template) in fields { object[key] = template.replacingOccurrences(of: "{n}", with: String(n)) }
        for (key, value) in extra { object[key] = value }
        return DemoWorkload.json(object)
    }

    /// The `simulate` part of every payload of this queue (latency and error mix).
    var simulation: [String: Any] {
        var errorSpec: [String: Any] = [:]
        for e in errors { errorSpec[e.type] = ["p": e.probability, "message": e.message] }
        var out: [String: Any] = ["latency_ms": ["p50": latencyP50, "p99": latencyP99], "errors": errorSpec]
        if let retryAfterSeconds { out["retry_after_s"] = retryAfterSeconds }
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
                 ("invalid_payload", 0.004, "invalid payload: recipient address is empty")],
        retryAfterSeconds: 3, historyPerHour: (500, 5000),
        dlq: [("smtp_error", 120, "SMTP 550 5.1.1 mailbox unavailable after 5 attempts"),
              ("ai_timeout", 60, "AI reply generation timed out after 30 s"),
              ("rate_limited", 40, "429 Too Many Requests from the SMTP relay"),
              ("invalid_payload", 25, "invalid payload: recipient address is empty")],
        fields: ["to": "cliente{n}@example.com", "subject": "Re: pedido #{n}", "mailbox": "vendas@loja.example"])

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
        fields: ["store_id": "loja-{n}", "platform": "shopify", "kind": "orders_and_customers"])

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
        fields: ["campaign_run_id": "campanha-{n}", "lead_id": "lead-{n}", "channel": "whatsapp"])

    static let queues = [emails, storeSync, campaigns]

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

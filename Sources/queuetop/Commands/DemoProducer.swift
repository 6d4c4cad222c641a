import Foundation
import Postgres
import QueueStore

/// Keeps the demo's work arriving while it runs: emails at a steady, gently swelling rate, store
/// syncs in waves with a dedup key per store and period (repeats within a period are folded into
/// the active job), campaign runs in chunks, and seed 003's cron that moves one batch of leads at
/// a time, plus a new extraction run to migrate now and then.
final class DemoProducer {
    private let config: ConnectionConfig
    private let log: (String) -> Void
    private var connection: Connection?
    private var sequence = 0
    private var lastStoreWave = Date.distantPast
    private var lastCampaign = Date.distantPast
    private var lastLeadBatch = Date.distantPast
    private var lastNewRun = Date()
    private let started = Date()

    /// The pace, in seconds: the seeds' hours and minutes scaled down so that a sync period, a
    /// campaign cadence or a migration batch happens while you watch.
    static let tick = 0.25, emailsPerSecond = 6.0, storeWaveEvery = 2.0, syncPeriod = 30.0
    static let campaignEvery = 8.0, campaignSize = 25, leadBatchEvery = 0.5, newRunEvery = 60.0
    static let stores = 12

    /// The jobs an hour this producer brings to a queue on average: what the live pool completes
    /// once it runs, and so where the seeded history must arrive at "now" (DemoSeeder) for the
    /// charts not to step up when the demo starts. Nil for a queue it does not feed.
    static func arrivalsPerHour(_ queue: String) -> Double? {
        switch queue {
        case DemoWorkload.emails.name: return emailsPerSecond * 3600
        // Each store syncs at most once a sync period (the dedup key folds the repeats).
        case DemoWorkload.storeSync.name: return Double(stores) / syncPeriod * 3600
        case DemoWorkload.campaigns.name:
            let meanSize = campaignShops.reduce(0.0) { $0 + Double($1 == 1 ? campaignSize * 2 : campaignSize) } / Double(campaignShops.count)
            return meanSize / campaignEvery * 3600
        default: return nil
        }
    }
    /// Shops whose campaigns arrive; loja-1 is the big one (twice as often, twice the size).
    static let campaignShops = [1, 1, 2, 3, 4, 5, 6]

    init(config: ConnectionConfig, log: @escaping (String) -> Void) {
        self.config = config
        self.log = log
    }

    /// Produces until `shouldStop` says so. A lost connection is retried with backoff; the
    /// producer never exits on a database error, because the demo's database restarts are the
    /// operator's to watch, not a reason to stop the workload.
    func run(shouldStop: () -> Bool) {
        var backoff = Backoff(initial: 0.2, maximum: 5)
        while !shouldStop() {
            let tickStarted = Date()
            do {
                let conn = try liveConnection()
                try produceOnce(conn, now: tickStarted)
                backoff.reset()
            } catch {
                connection?.close()
                connection = nil
                let wait = backoff.next()
                log("producer: \(error) — retrying in \(String(format: "%.1f", wait)) s")
                sleep(seconds: wait, unless: shouldStop)
                continue
            }
            sleep(seconds: Self.tick - Date().timeIntervalSince(tickStarted), unless: shouldStop)
        }
        connection?.close()
    }

    private func liveConnection() throws -> Connection {
        if let connection, connection.isConnected { return connection }
        let conn = try Connection.connect(config)
        connection = conn
        return conn
    }

    private func produceOnce(_ conn: Connection, now: Date) throws {
        var jobs = emails(now: now)
        if now.timeIntervalSince(lastStoreWave) >= Self.storeWaveEvery {
            jobs += storeSyncWave(now: now)
            lastStoreWave = now
        }
        if now.timeIntervalSince(lastCampaign) >= Self.campaignEvery {
            jobs += campaignRun(now: now)
            lastCampaign = now
        }
        if !jobs.isEmpty { _ = try JobStore(connection: conn).enqueue(jobs) }
        if now.timeIntervalSince(lastLeadBatch) >= Self.leadBatchEvery {
            // nil: each migration's own batch size, as seed 003's cron calls it.
            _ = try LeadMigrationStore(connection: conn).processNextBatch(batchSize: nil)
            lastLeadBatch = now
        }
        if now.timeIntervalSince(lastNewRun) >= Self.newRunEvery {
            try queueNewLeadRun(conn)
            lastNewRun = now
        }
    }

    private func next() -> Int { sequence += 1; return sequence }

    /// Poisson arrivals around `emailsPerSecond`, swelling ±50 % over a 90 s cycle.
    private func emails(now: Date) -> [NewJob] {
        let elapsed = now.timeIntervalSince(started)
        let rate = Self.emailsPerSecond * (1 + 0.5 * sin(2 * .pi * elapsed / 90))
        let profile = DemoWorkload.emails
        return (0..<Self.poisson(mean: rate * Self.tick)).map { _ in
            NewJob(queue: profile.name, type: profile.jobType, payload: JSONText(profile.payload(next())))
        }
    }

    /// A few stores ask for a sync. Seed 001's cache-first: a store synced within the period is
    /// answered with its last sync's result instead of syncing again (the dedup key with
    /// unique_for_s); the store is the tenant, so one store never runs two syncs at once.
    private func storeSyncWave(now: Date) -> [NewJob] {
        let profile = DemoWorkload.storeSync
        let stores = (1...Self.stores).shuffled().prefix(4)
        return stores.map { store in
            NewJob(queue: profile.name, type: profile.jobType,
                   payload: JSONText(profile.payload(store)),
                   dedupKey: "loja-\(store)", uniqueForSeconds: Int(Self.syncPeriod), tenant: "loja-\(store)")
        }
    }

    /// One campaign run of one shop (the tenant): its messages arrive together and are worked 5
    /// at a time, at most 2 per shop, so the big shop's runs queue behind its own cap while the
    /// others' flow. A message not sent within two minutes is stale (seeds 002/004) and expires
    /// instead.
    private func campaignRun(now: Date) -> [NewJob] {
        let profile = DemoWorkload.campaigns
        let run = next()
        let shop = Self.campaignShops.randomElement() ?? 1
        let size = shop == 1 ? Self.campaignSize * 2 : Self.campaignSize
        return (0..<size).map { _ in
            NewJob(queue: profile.name, type: profile.jobType,
                   payload: JSONText(profile.payload(next(), overriding: ["campaign_run_id": "campanha-\(run)"])),
                   expiresAt: now.addingTimeInterval(120), tenant: "loja-\(shop)")
        }
    }

    /// A fresh extraction run to move, so the lead-migration screen always has a bar moving.
    private func queueNewLeadRun(_ conn: Connection) throws {
        guard let funnel = try DemoLeads.funnel(conn), funnel.columns.count > 1 else { return }
        let size = Int.random(in: 300...1200)
        try conn.transaction { conn in
            let run = try DemoLeads.createRun(conn, name: "Extração \(next()) - \(size) leads", leads: size)
            _ = try LeadMigrationStore(connection: conn)
                .queue(run: run, funnel: funnel.id, column: funnel.columns[1], batchSize: 100)
        }
    }

    private func sleep(seconds: Double, unless shouldStop: () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while !shouldStop() {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return }
            usleep(useconds_t(min(left, 0.05) * 1_000_000))
        }
    }

    /// Knuth's method; fine for the small means of one tick.
    static func poisson(mean: Double) -> Int {
        let limit = exp(-mean)
        var k = 0, p = 1.0
        repeat { k += 1; p *= Double.random(in: 0..<1) } while p > limit
        return k - 1
    }
}

import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// A link that stops answering after connect (a proxy that stops forwarding, whose kernel still
/// acks everything, so TCP keepalives see a live peer): every client declares it lost within the
/// liveness bound (15 s, docs/RELIABILITY.md "Liveness") and recovers when it thaws. Through
/// `SlowProxy.freeze()`, with the real binary; every wait below has its own bound, so a client
/// that hangs fails the test instead of hanging the suite. Serialized: each runs a cluster and
/// a process, and the machine is small.
@Suite(.serialized) struct FrozenLinkTests {
    /// The default bound plus a generous margin for a loaded 2-core machine.
    static let bound = Liveness.defaultTimeout + 10

    static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// Polls `condition` every 100 ms; the seconds it took, or nil when `timeout` passed first.
    static func secondsUntil(timeout: Double, _ condition: () -> Bool) -> Double? {
        let started = Date()
        while Date().timeIntervalSince(started) < timeout {
            if condition() { return Date().timeIntervalSince(started) }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return condition() ? Date().timeIntervalSince(started) : nil
    }

    /// SIGTERM, then SIGKILL if it is still running 10 s later: a test never waits for ever.
    /// Whether SIGTERM alone stopped it.
    @discardableResult
    static func stop(_ process: Process) -> Bool {
        guard process.isRunning else { return true }
        process.terminate()
        let stopped = secondsUntil(timeout: 10, { !process.isRunning }) != nil
        if !stopped { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return stopped
    }

    /// `queuetop status` whose health query meets a frozen link (connected, authenticated, then
    /// nothing): exits non-zero with a clear message within the bound. It used to wait forever.
    @Test func statusThroughALinkThatFreezesMidRequestFailsWithinTheBound() throws {
        let link = try ProxiedCluster(prefix: "liveness-status")
        defer { link.destroy() }
        link.proxy.freeze(whenClientSends: "queue_health_snapshot")
        let started = Date()
        let run = try QueuetopBinary.run(["status"], environment: ["DATABASE_URL": link.conninfo], timeout: 60)
        let took = Date().timeIntervalSince(started)
        #expect(link.proxy.isFrozen, "the link froze on the health query")
        #expect(run.status == 1, "exit status \(run.status); stderr: \(run.stderr)")
        #expect(took <= Self.bound, "status took \(took) s")
        #expect(run.stderr.contains("no answer from the server for 15 s"), "stderr: \(run.stderr)")
        #expect(!run.stderr.contains("link-"), "no password in the message")
        print("LIVENESS | status, link frozen mid-request | exit \(run.status) after \(String(format: "%.1f", took)) s")
    }

    /// `status --watch 1`: a frozen link prints a "disconnected" line within the bound and the
    /// command keeps running; after the thaw fresh status prints again (a queue created after
    /// the thaw shows).
    @Test func statusWatchSaysDisconnectedThenRecoversAfterTheThaw() throws {
        let link = try ProxiedCluster(prefix: "liveness-watch")
        defer { link.destroy() }
        let direct = try link.direct()
        defer { direct.close() }
        try direct.execute("SELECT enqueue_job('before_freeze', 'noop')")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-watch-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path, err = dir.appendingPathComponent("err").path
        let watch = try QueuetopBinary.start(["status", "--watch", "1"], environment: ["DATABASE_URL": link.conninfo],
                                             stderrLog: err, stdoutLog: out)
        defer { Self.stop(watch) }
        #expect(Self.secondsUntil(timeout: 30) { Self.text(out).contains("before_freeze") } != nil, "status printed: \(Self.text(out))")

        link.proxy.freeze()
        let frozenAt = Self.text(out).count
        let noticed = Self.secondsUntil(timeout: Self.bound + 5) { Self.text(out).dropFirst(frozenAt).contains("disconnected") }
        let afterFreeze = String(Self.text(out).dropFirst(frozenAt))
        #expect(noticed != nil && noticed! <= Self.bound, "disconnected after \(noticed ?? -1) s: \(afterFreeze)")
        #expect(afterFreeze.contains("no answer from the server"), "the line says why: \(afterFreeze)")
        #expect(watch.isRunning, "--watch keeps running through the outage")

        link.proxy.thaw()
        try direct.execute("SELECT enqueue_job('after_thaw', 'noop')")
        let thawedAt = Self.text(out).count
        let recovered = Self.secondsUntil(timeout: 90) { Self.text(out).dropFirst(thawedAt).contains("after_thaw") }
        #expect(recovered != nil, "fresh status after the thaw: \(Self.text(out).dropFirst(thawedAt))")
        #expect(watch.isRunning)
        #expect(Self.stop(watch), "SIGTERM stops --watch, even when started with it blocked (Foundation's Process)")
        print("LIVENESS | status --watch 1, link frozen | disconnected line after \(String(format: "%.1f", noticed ?? -1)) s | fresh status \(String(format: "%.1f", recovered ?? -1)) s after the thaw")
    }

    /// The dashboard over a link that freezes: the disconnected banner within the bound (it
    /// used to show "connected · 1m ago" for ever); after the thaw the banner goes and a refresh
    /// shows a queue created meanwhile.
    @Test func theDashboardShowsTheBannerOnAFrozenLinkAndRecoversAfterTheThaw() throws {
        let link = try ProxiedCluster(prefix: "liveness-dash")
        defer { link.destroy() }
        let direct = try link.direct()
        defer { direct.close() }
        try direct.execute("SELECT enqueue_job('before_freeze', 'noop')")
        let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": link.conninfo])
        defer { tmux.close() }
        try tmux.launchDashboard("dash --no-workers --refresh 1")
        #expect(tmux.waitFor(timeout: 30) { $0.contains("before_freeze") && $0.contains("connected") } != nil, "the overview: \(tmux.screen())")

        // Frozen mid-request: the next refresh's query is sent and never answered.
        link.proxy.freeze(whenClientSends: "queue_health_snapshot")
        let frozen = Date()
        let banner = tmux.waitFor(timeout: Self.bound + 5) { $0.contains("disconnected") }
        let bannerAfter = Date().timeIntervalSince(frozen)
        #expect(banner != nil && bannerAfter <= Self.bound, "banner after \(bannerAfter) s: \(tmux.screen())")
        #expect(tmux.screen().contains("before_freeze"), "the last data stays on screen under the banner")
        let bannerLine = banner?.split(separator: "\n").first { $0.contains("disconnected") }.map(String.init) ?? ""
        print("LIVENESS | dashboard banner: \(bannerLine.trimmingCharacters(in: .whitespaces))")

        link.proxy.thaw()
        let thawed = Date()
        try direct.execute("SELECT enqueue_job('after_thaw', 'noop')")
        let recovered = tmux.waitFor(timeout: 90) { $0.contains("after_thaw") && !$0.contains("disconnected") }
        let recoveredAfter = Date().timeIntervalSince(thawed)
        #expect(recovered != nil, "connected and refreshing again: \(tmux.screen())")
        print("LIVENESS | dashboard (--refresh 1), link frozen | banner after \(String(format: "%.1f", bannerAfter)) s | fresh data \(String(format: "%.1f", recoveredAfter)) s after the thaw")
        try tmux.keys("Q")
        tmux.expectRestoredShell(timeout: 30)
    }
}

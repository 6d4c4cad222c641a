// swift-tools-version: 6.0
// queuetop: the operations console and worker runtime for job queues that live in PostgreSQL.
//
// Dependency arrows point one way (see README "Architecture"):
//   queuetop -> Dashboard/Workers -> QueueStore -> Postgres -> CLibPQ
//   QueueStore and Dashboard -> JobFilter (the job filter language, no dependencies)
//   Workers and the queuetop command record and export metrics through QueuetopMetrics.
//   TerminalUI reads Dashboard state; Curses copies TerminalUI buffers to the terminal.
import PackageDescription

let package = Package(
    name: "queuetop",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "queuetop", targets: ["queuetop"]),
        .executable(name: "queuetop-bench", targets: ["queuetop-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Metrics: the swift-metrics API, the Prometheus registry and text format, a small HTTP server.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        // Logging: the swift-log API; our own LogHandler renders text, logfmt and JSON safely.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        // The contexts file (docs/SCALING.md): TOML with line numbers in its errors.
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CNCursesW",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"])]
        ),
        // The only importer of libpq.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        // The job filter language (`queue:emails state:dead payload.to=…`): parse and print.
        // Pure Swift, no dependencies; QueueStore compiles a filter to SQL.
        .target(name: "JobFilter"),
        // All SQL the application runs, plus the migration runner. No UI, no threads.
        .target(
            name: "QueueStore",
            dependencies: ["Postgres", "JobFilter"],
            resources: [.copy("migrations")]
        ),
        // Prometheus metrics: every metric's name, the registry, the /metrics HTTP endpoint, the
        // worker's instrumentation API and the queue-health exporter (docs/OBSERVABILITY.md).
        .target(
            name: "QueuetopMetrics",
            dependencies: [
                "QueueStore", "Postgres",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "FlyingFox", package: "FlyingFox"),
            ]
        ),
        // Log lines: one LogHandler rendering text, logfmt or JSON, one escaped line per event
        // (docs/OBSERVABILITY.md), and the bounded ring the dashboard's log screen reads.
        .target(
            name: "QueuetopLogging",
            dependencies: ["Postgres", .product(name: "Logging", package: "swift-log")]
        ),
        // The worker pool: claim loop, handlers, heartbeats, shutdown.
        .target(
            name: "Workers",
            dependencies: ["QueueStore", "Postgres", "QueuetopMetrics", "QueuetopLogging",
                           .product(name: "Logging", package: "swift-log")]
        ),
        // Dashboard state and reducer: no I/O, no curses.
        .target(name: "Dashboard", dependencies: ["QueueStore", "JobFilter"]),
        // The contexts file: named databases (primary, replica, labels) and shard groups, parsed and
        // validated; the stable shard hash. No I/O beyond reading the file.
        .target(
            name: "Contexts",
            dependencies: ["Postgres", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        // The dashboard's database side: effect runner thread, LISTEN/NOTIFY, reconnects.
        // No curses, so it is tested against Postgres without a terminal.
        .target(name: "DashboardRuntime", dependencies: ["Dashboard", "QueueStore", "JobFilter", "Postgres"]),
        // Pure views drawing Dashboard state into an in-memory ScreenBuffer.
        .target(name: "TerminalUI", dependencies: ["Dashboard", "QueueStore", "JobFilter", "Postgres"]),
        // The only importer of ncursesw.
        .target(name: "Curses", dependencies: ["CNCursesW", "TerminalUI"]),
        .executableTarget(
            name: "queuetop",
            dependencies: [
                "Postgres", "QueueStore", "JobFilter", "Workers", "Dashboard", "DashboardRuntime", "TerminalUI", "Curses",
                "QueuetopMetrics", "QueuetopLogging", "Contexts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Measurements of scripts/bench that need an in-process clock (pickup latency, claim waits).
        .executableTarget(name: "queuetop-bench", dependencies: ["Postgres", "QueueStore", "Workers", "QueuetopLogging", "Contexts", "JobFilter"]),
        // Test helpers: a private-Postgres fixture (a migrated template database cloned per
        // test), snapshot assertions, data generators.
        .target(name: "TestSupport", dependencies: ["Postgres", "QueueStore"]),
        .testTarget(name: "JobFilterTests", dependencies: ["JobFilter"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "QueueStoreTests", dependencies: ["QueueStore", "JobFilter", "Postgres", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "WorkersTests", dependencies: ["Workers", "QueueStore", "Postgres", "TestSupport", "QueuetopLogging",
                                                        .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "QueueStore", "JobFilter", "Postgres", "TestSupport"]),
        .testTarget(
            name: "TerminalUITests",
            dependencies: ["TerminalUI", "Dashboard", "QueueStore", "JobFilter", "Postgres", "TestSupport"],
            exclude: ["Snapshots"]
        ),
        .testTarget(name: "DashboardRuntimeTests", dependencies: ["DashboardRuntime", "Dashboard", "QueueStore", "JobFilter", "Postgres", "TestSupport"]),
        .testTarget(name: "ContextsTests", dependencies: ["Contexts", "Postgres", "QueueStore", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Postgres", "QueueStore", "Dashboard", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

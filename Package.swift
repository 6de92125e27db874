// swift-tools-version: 6.1
import PackageDescription

// One target per plugin (Sources/Plugins/<Name>), its C library beside it (Sources/Plugins/<Name>/C<Lib>),
// so a plugin and its binding move together. A plugin depends on the engine and PluginSupport, never on
// another plugin. Adding one: a folder, a line in `builtinPlugins` and a `plugin(…)` line below, and a
// line in Sources/Plugins/BuiltinPlugins/BuiltinPlugins.swift.
let builtinPlugins = ["Postgres", "Gzip", "Zstd", "None", "Local", "S3", "Age", "Count", "Rolling", "Expire", "Webhook", "Slack", "Teams"]

/// A plugin target: Sources/Plugins/<name>, depending on the engine, PluginSupport and `extra`.
func plugin(_ name: String, _ extra: [Target.Dependency] = [], exclude: [String] = []) -> Target {
    .target(name: name, dependencies: ["Engine", "PluginSupport"] + extra, path: "Sources/Plugins/\(name)", exclude: exclude)
}

/// A test target: Tests/<name>, depending on the engine and `extra` (the plugins it tests, TestSupport).
func tests(_ name: String, _ extra: [Target.Dependency], exclude: [String] = []) -> Target {
    .testTarget(name: name, dependencies: ["Engine"] + extra, exclude: exclude)
}

let pluginTargets: [Target.Dependency] = builtinPlugins.map { .target(name: $0) }

let package = Package(
    name: "backup",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "backup", targets: ["runner"]),
        .library(name: "Engine", targets: ["Engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        // Notifications (HTTP client), and `backup run`'s /healthz, /readyz and /metrics (NIO, Prometheus).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        // TLS settings (a CA bundle) for the s3 destination; already built as AsyncHTTPClient's dependency.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    ],
    targets: [
        .target(
            name: "Engine",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .systemLibrary(name: "CLibPQ", path: "Sources/Plugins/Postgres/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/Plugins/Gzip/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibDeflate", path: "Sources/Plugins/Gzip/CLibDeflate", pkgConfig: "libdeflate",
                       providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/Plugins/Zstd/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        // Code that several plugins truly share: output buffers for C libraries, the CPU count, JSON POST.
        .target(
            name: "PluginSupport",
            dependencies: ["Engine", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/Plugins/PluginSupport"),
        plugin("Postgres", ["CLibPQ", .product(name: "Logging", package: "swift-log"),
                            .product(name: "Subprocess", package: "swift-subprocess")], exclude: ["CLibPQ"]),
        plugin("Gzip", ["CZlib", "CLibDeflate"], exclude: ["CZlib", "CLibDeflate"]),
        plugin("Zstd", ["CZstd"], exclude: ["CZstd"]),
        plugin("None"),
        plugin("Local"),
        plugin("S3", [.product(name: "AsyncHTTPClient", package: "async-http-client"),
                      .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                      .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Crypto", package: "swift-crypto")]),
        plugin("Age", [.product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")]),
        plugin("Count"),
        plugin("Rolling"),
        plugin("Expire"),
        plugin("Webhook"),
        plugin("Slack"),
        plugin("Teams"),
        // Lists every plugin once; the runner takes its registry from here.
        .target(name: "BuiltinPlugins", dependencies: [Target.Dependency("Engine")] + pluginTargets,
                path: "Sources/Plugins/BuiltinPlugins"),
        .executableTarget(
            name: "runner",
            dependencies: [
                "Engine", "BuiltinPlugins",
                // `backup keygen` makes keys of the age encryption stage.
                "Age",
                // The cores this process may use: the default of restore's and verify's --jobs.
                "PluginSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // `backup now` pushes its metrics to a Pushgateway (metrics.pushgateway).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            // The commit it is built from, for `backup --version`.
            plugins: ["BuildInfo"]
        ),
        .plugin(name: "BuildInfo", capability: .buildTool(), path: "Plugins/BuildInfo"),
        // The tests mirror the targets: the engine's, against in-memory doubles of its protocols; a target per
        // plugin (per role where one suite checks the role's plugins side by side), running the conformance
        // suites with its own fixture; the registry's; and the CLI's, end to end.
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // What the test targets share, as Hummingbird's HummingbirdTesting: the PostgreSQL and moto servers,
        // the fault proxy, the `backup` CLI and its stand-ins, the conformance suites' checks and the fixture
        // type a destination's target fills in. A test target that others depend on, not a
        // library: it imports Testing, which `swift build` would then build for every library target, also
        // in the static release build (`--static-swift-stdlib`, bench/run), whose toolchain has no Testing.
        .testTarget(
            name: "TestSupport",
            dependencies: ["Engine", .product(name: "Subprocess", package: "swift-subprocess")],
            exclude: ["fault_proxy.py"]
        ),
        // The Postgres source against real servers: dumps, restores and verification, roles and globals.
        tests("PostgresTests", ["Postgres", "TestSupport"]),
        // The compressors, against the system's gzip, gunzip and zstd, and the stage conformance suite.
        tests("CompressionTests", ["Gzip", "Zstd", "None", "TestSupport"]),
        // The local destination: publishing as restic's local back-end does, locations, conformance.
        tests("LocalTests", ["Local", "TestSupport"]),
        // The s3 destination against moto_server, through a fault proxy, and read back by the AWS CLI.
        tests("S3Tests", ["S3", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        // The age stage against the format's test vectors and Debian's age, and encrypted backups end to end.
        // CZlib inflates the compressed test vectors.
        tests("AgeTests", ["Age", "CZlib", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
              exclude: ["age_tty.py"]),
        // The retention plugins, as pure functions over synthetic backups.
        tests("RetentionTests", ["Count", "Rolling", "Expire"]),
        // The plugins as the registry lists them together: a job's config loaded by the real registry, and
        // names across roles (the retention once called `age` beside the `age` stage).
        tests("BuiltinPluginsTests", ["BuiltinPlugins", "Age", "Expire",
                                      .product(name: "Crypto", package: "swift-crypto")]),
        // The notifiers (webhook, slack, teams) as a run sends them, to a real HTTP receiver.
        tests("NotifierTests", ["TestSupport"]),
        // The `backup` executable end to end, as a person or a CronJob runs it, and the source tree's
        // architecture. It links what the runner links (BuiltinPlugins, Age for the keys) and PluginSupport
        // (the CPU count the thread defaults follow).
        tests("EndToEndTests", ["BuiltinPlugins", "Age", "PluginSupport", "TestSupport"]),
    ]
)

// Fuzz targets (scripts/fuzz), built only when it asks (BACKUP_FUZZ set), with libFuzzer and
// AddressSanitizer: each defines LLVMFuzzerTestOneInput and links libFuzzer's main, so a plain build has none.
// The fuzz build is then the libraries and these targets alone, built by one `swift build`.
if Context.environment["BACKUP_FUZZ"] != nil {
    package.targets.removeAll { $0.type == .executable || $0.type == .test }
    package.products.removeAll { $0.name == "backup" }
    let fuzzTargets: [(String, Target.Dependency)] = [
        ("FuzzConfig", "Engine"), ("FuzzManifest", "Engine"), ("FuzzSchedule", "Engine"),
        ("FuzzGlobals", "Postgres"), ("FuzzS3XML", "S3"), ("FuzzAge", "Age"),
        ("FuzzJobLoader", "BuiltinPlugins"),
    ]
    for (name, dependency) in fuzzTargets {
        package.targets.append(.executableTarget(
            name: name, dependencies: [dependency], path: "Fuzz/\(name)",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    }
}

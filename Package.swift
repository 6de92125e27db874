// swift-tools-version: 6.1
import PackageDescription

// The C libraries live beside the plugin that wraps them (Sources/Plugins/<Plugin>/C<Lib>), so a plugin
// and its binding move together; the Plugins target excludes those folders.
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
        .target(
            name: "Plugins",
            dependencies: [
                "Engine", "CLibPQ", "CZlib", "CLibDeflate", "CZstd",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["Postgres/CLibPQ", "Gzip/CZlib", "Gzip/CLibDeflate", "Zstd/CZstd"]
        ),
        .executableTarget(
            name: "runner",
            dependencies: [
                "Engine", "Plugins",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "PluginTests",
            dependencies: [
                "Engine", "Plugins", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
    ]
)

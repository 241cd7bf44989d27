// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "model-service",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "model-service", targets: ["model-service"]),
        .library(name: "ModelService", targets: ["ModelService"]),
        .library(name: "ModelServiceCore", targets: ["ModelServiceCore"]),
        .library(name: "FakeProviders", targets: ["FakeProviders"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP/HTTP only: the default gRPC trait would pull in grpc-swift for an exporter we do not use.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // The domain and the call pipeline: registry, vault, accounts, traffic, providers, storage. No
        // Hummingbird and no HTTP server types here, so the compiler keeps HTTP out of the core.
        .target(
            name: "ModelServiceCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            resources: [
                .copy("Registry/Resources/default-catalog.json"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP on top of the core: the front doors, the REST API, the console and the wiring.
        .target(
            name: "ModelService",
            dependencies: [
                "ModelServiceCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            resources: [
                .copy("Observability/Resources/openapi.json"),
                .copy("Console/Templates"),
                .copy("Console/Static"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FakeProviders",
            dependencies: [
                // The AWS kit (SigV4 verifier, event-stream encoder) lives in the core; the fake Bedrock uses it, not a copy.
                "ModelServiceCore",
                // The fake Vertex AI token endpoint verifies RS256 assertions.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "model-service",
            dependencies: [
                "ModelService",
                "ModelServiceCore",
                "FakeProviders",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "VaultBench",
            dependencies: [
                "ModelServiceCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/VaultBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "HotPathBench",
            dependencies: [
                "ModelService",
                "ModelServiceCore",
                "FakeProviders",
            ],
            path: "Benchmarks/HotPathBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "UsageBench",
            dependencies: ["ModelServiceCore", .product(name: "SQLKit", package: "sql-kit")],
            path: "Benchmarks/UsageBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FloorProxy",
            dependencies: [
                "ModelServiceCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/FloorProxy",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ModelServiceTests",
            dependencies: [
                "ModelService",
                "ModelServiceCore",
                "FakeProviders",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FakeProvidersTests",
            dependencies: [
                "FakeProviders",
                // The fake Bedrock's tests sign requests and decode its event stream with the core's AWS kit.
                "ModelServiceCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

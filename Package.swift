// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Relevo",
    products: [
        .executable(name: "relevo", targets: ["RelevoCLI"]),
        .library(name: "Relevo", targets: ["Relevo"]),
        // For panels written in Swift: verification, typed events, signed replies (swift-crypto and
        // swift-http-types only), and apart from it the API client, which adds AsyncHTTPClient.
        .library(name: "RelevoPanelKit", type: .static, targets: ["RelevoPanelKit"]),
        .library(name: "RelevoPanelClient", type: .static, targets: ["RelevoPanelClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "Relevo",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                "RelevoSQLiteConfig",
            ],
            // Embedded in the binary: a production install is the one file, with no resource bundle beside it.
            resources: [
                .embedInCode("Resources/openapi.yaml"),
                .embedInCode("Resources/console/index.html"),
                .embedInCode("Resources/console/console.css"),
                .embedInCode("Resources/console/console.js"),
                .embedInCode("Resources/webchat/widget.js"),
                .embedInCode("Resources/webchat/chat.html"),
                .embedInCode("Resources/webchat/chat.css"),
                .embedInCode("Resources/webchat/chat.js"),
            ]
        ),
        // The one SQLite setting Swift cannot make itself (a variadic C call); the header is the one GRDB builds against.
        .target(name: "RelevoSQLiteConfig", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The `relevo` command (its folder is not named `relevo`, which would collide with `Relevo` on a case-insensitive disk).
        .executableTarget(
            name: "RelevoCLI",
            dependencies: [
                "Relevo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "RelevoPanelKit",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(
            name: "RelevoPanelClient",
            dependencies: [
                "RelevoPanelKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(name: "RelevoPanelKitTests", dependencies: ["RelevoPanelKit"]),
        .testTarget(
            name: "RelevoTests",
            dependencies: [
                "Relevo",
                "RelevoCLI",
                "RelevoPanelClient",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz/: libFuzzer targets over the code that reads untrusted bytes, declared only for scripts/fuzz.sh
// (RELEVO_FUZZ=1), which builds them with `-sanitize=fuzzer,address` in .build-fuzz: without that
// sanitizer they have no `main`, so an ordinary build must not see them. The fuzzed code is compiled
// alone (the JSON reader and writer, the webhook address rule, the signature check), not the whole
// library: instrumenting the server, its embedded resources and its packages would take longer than
// the fuzzing itself.
if Context.environment["RELEVO_FUZZ"] == "1" {
    package.products = []
    package.targets = [
        .target(
            name: "Relevo",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            sources: [
                "JSON",
                "Delivery/WebhookURL.swift", "Delivery/IPAddress.swift", "Delivery/DestinationGuard.swift",
                "Signing/WebhookSignature.swift", "Signing/SigningKey.swift",
                "Domain/LocalizedText.swift", "Support/String+JavaScript.swift",
                "Delivery/RecentResolutions.swift", "Support/SecureRandom.swift",
            ]
        ),
        .target(name: "FuzzSupport", path: "Fuzz/Support"),
    ]
    for name in ["JSONParser", "CanonicalJSON", "WebhookURL", "SignatureHeader"] {
        package.targets.append(.executableTarget(name: "fuzz-\(name)", dependencies: ["Relevo", "FuzzSupport"], path: "Fuzz/\(name)"))
    }
}

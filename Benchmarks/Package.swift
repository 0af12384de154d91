// swift-tools-version:6.1
import PackageDescription

// Benchmarks that measure parts of Relevo from inside: a package of their own, so the product's manifest
// carries no benchmark target and no dependency only they use. They read Relevo's package-level API through
// `@testable import`, so build them with testing enabled:
//
//     swift build -c release --package-path Benchmarks -Xswiftc -enable-testing
let package = Package(
    name: "RelevoBenchmarks",
    dependencies: [
        .package(name: "Relevo", path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // Claim cost at 1 000 and 1 000 000 pending events: it must stay flat (no scans).
        .executableTarget(
            name: "relevo-claim-cost",
            dependencies: [.product(name: "Relevo", package: "Relevo"), .product(name: "GRDB", package: "GRDB.swift")],
            path: "Sources/ClaimCost"
        ),
        // CPU per event of each part of the pipeline; AsyncHTTPClient only as the outbound baseline.
        .executableTarget(
            name: "relevo-pipeline-cost",
            dependencies: [
                .product(name: "Relevo", package: "Relevo"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/PipelineCost"
        ),
        // The two HTTP legs of an event and nothing else: the bound of forwarding on this stack.
        .executableTarget(
            name: "relevo-forward-bound",
            dependencies: [.product(name: "Relevo", package: "Relevo"), .product(name: "Hummingbird", package: "hummingbird")],
            path: "Sources/ForwardBound"
        ),
    ],
    swiftLanguageModes: [.v6]
)

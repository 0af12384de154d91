// swift-tools-version:6.1
import PackageDescription

// A panel written in Swift on RelevoPanelKit: it receives Relevo's events, verifies them, logs them
// and answers each text message with an echo. Relevo's package is two folders up; a panel of your
// own names it by URL instead.
let package = Package(
    name: "swift-panel",
    dependencies: [
        .package(name: "Relevo", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "SwiftPanel",
            dependencies: [
                .product(name: "RelevoPanelKit", package: "Relevo"),
                .product(name: "RelevoPanelClient", package: "Relevo"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)

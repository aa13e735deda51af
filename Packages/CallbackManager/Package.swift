// swift-tools-version:6.0
import PackageDescription

/// CallbackManager: what runs around a denoising loop, for every model. Callback kinds as in mflux
/// (before-loop, in-loop, after-loop, interruption) plus stage events, a registry that features add
/// themselves to once, cancellation (Ctrl-C / SIGTERM stop after the current step), and the
/// built-ins: progress on stderr, stepwise PNG previews with a composite strip, verbose timings
/// with peak memory. It knows no model: a model hands the manager a latent-to-image decoder.
let package = Package(
    name: "CallbackManager",
    products: [
        .library(name: "CallbackManager", targets: ["CallbackManager"]),
    ],
    dependencies: [
        .package(path: "../TensorKit"),
        .package(path: "../ImageIO"),
    ],
    targets: [
        .target(
            name: "CallbackManager",
            dependencies: [
                .product(name: "TensorKit", package: "TensorKit"),
                .product(name: "ImageIO", package: "ImageIO"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "CallbackManagerTests",
            dependencies: ["CallbackManager"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

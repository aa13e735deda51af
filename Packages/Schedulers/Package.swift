// swift-tools-version:6.0
import PackageDescription

/// Schedulers: diffusers' flow-match Euler scheduler, bit-exact sigmas and timesteps.
let package = Package(
    name: "Schedulers",
    products: [
        .library(name: "Schedulers", targets: ["Schedulers"]),
    ],
    dependencies: [
        .package(path: "../TensorKit"),
        .package(path: "../ReferenceTesting"),
    ],
    targets: [
        .target(
            name: "Schedulers",
            dependencies: [.product(name: "TensorKit", package: "TensorKit")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "SchedulersTests",
            dependencies: ["Schedulers", .product(name: "ReferenceTesting", package: "ReferenceTesting")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

// swift-tools-version:6.0
import PackageDescription

/// ReferenceTesting: test support for comparing Swift components with the diffusers exports in
/// ReferenceExports/ (open a case, assert closeness). Used only by test targets.
let package = Package(
    name: "ReferenceTesting",
    products: [
        .library(name: "ReferenceTesting", targets: ["ReferenceTesting"]),
    ],
    dependencies: [
        .package(path: "../TensorKit"),
        .package(path: "../SafetensorsIO"),
    ],
    targets: [
        .target(
            name: "ReferenceTesting",
            dependencies: [
                .product(name: "TensorKit", package: "TensorKit"),
                .product(name: "SafetensorsIO", package: "SafetensorsIO"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "ReferenceTestingTests",
            dependencies: ["ReferenceTesting"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

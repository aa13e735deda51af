// swift-tools-version:6.0
import PackageDescription

/// SafetensorsIO: memory-mapped safetensors reader (single files and sharded checkpoints) and
/// atomic writer, validating headers as the reference implementation does.
let package = Package(
    name: "SafetensorsIO",
    products: [
        .library(name: "SafetensorsIO", targets: ["SafetensorsIO"]),
    ],
    dependencies: [
        .package(path: "../TensorKit"),
    ],
    targets: [
        .target(
            name: "SafetensorsIO",
            dependencies: [.product(name: "TensorKit", package: "TensorKit")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "SafetensorsIOTests",
            dependencies: ["SafetensorsIO"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

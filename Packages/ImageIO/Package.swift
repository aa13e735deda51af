// swift-tools-version:6.0
import PackageDescription

/// ImageIO: PNG reading and writing (libpng's simplified API) with text metadata chunks, written
/// atomically.
let package = Package(
    name: "ImageIO",
    products: [
        .library(name: "ImageIO", targets: ["ImageIO"]),
    ],
    dependencies: [
        .package(path: "../TensorKit"),
    ],
    targets: [
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "ImageIO",
            dependencies: ["CPNG", "CZlib", .product(name: "TensorKit", package: "TensorKit")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "ImageIOTests",
            dependencies: ["ImageIO"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

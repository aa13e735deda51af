// swift-tools-version:6.0
import PackageDescription

/// ModelZoo: shared model blocks (layers, VAEs, attention) and per-model variants
/// (ZImageTurbo/, later Flux2Klein/): configs, weight mapping, initializers, latent creators,
/// pipeline pieces.
let package = Package(
    name: "ModelZoo",
    products: [
        .library(name: "ModelZoo", targets: ["ModelZoo"]),
    ],
    dependencies: [
        .package(path: "../TensorKit"),
        .package(path: "../SafetensorsIO"),
        .package(path: "../Schedulers"),
        .package(path: "../Tokenizers"),
        .package(path: "../ReferenceTesting"),
    ],
    targets: [
        .target(
            name: "ModelZoo",
            dependencies: [
                .product(name: "TensorKit", package: "TensorKit"),
                .product(name: "SafetensorsIO", package: "SafetensorsIO"),
                .product(name: "Schedulers", package: "Schedulers"),
                .product(name: "Tokenizers", package: "Tokenizers"),
            ],
            exclude: ["ZImageTurbo/README.md"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "ModelZooTests",
            dependencies: ["ModelZoo", .product(name: "ReferenceTesting", package: "ReferenceTesting")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

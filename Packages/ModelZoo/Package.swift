// swift-tools-version:6.0
import PackageDescription

/// ModelZoo: the shared generation core (Core/: model protocol, registry, stages with a residency
/// policy, the flow-match denoising loop), shared blocks (Layers/, Common/ weight loader and
/// configs, Qwen3/, VAE/) and one folder per model family (ZImage/, later Flux2/) holding only
/// what differs: its blocks, weight names, prompt encoding and `predict`.
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
        .package(path: "../ImageIO"),
        .package(path: "../CallbackManager"),
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
                .product(name: "ImageIO", package: "ImageIO"),
                .product(name: "CallbackManager", package: "CallbackManager"),
            ],
            exclude: ["ZImage/README.md", "Flux2/README.md"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "ModelZooTests",
            dependencies: ["ModelZoo", .product(name: "ReferenceTesting", package: "ReferenceTesting")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

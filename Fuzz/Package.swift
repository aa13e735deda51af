// swift-tools-version:6.0
import PackageDescription

/// libFuzzer targets for everything that reads outside input (`scripts/fuzz` builds them with
/// `-sanitize=fuzzer,address` and runs each on its seed corpus in Corpus/<target>/). Not part of
/// the workspace's products: a separate package depending on the libraries it exercises.
let targets = ["FuzzSafetensors", "FuzzJSONConfig", "FuzzTokenizer", "FuzzPNG", "FuzzMetadata", "FuzzLoRA"]

let package = Package(
    name: "Fuzz",
    dependencies: [
        .package(path: "../Packages/SafetensorsIO"),
        .package(path: "../Packages/Tokenizers"),
        .package(path: "../Packages/ImageIO"),
        .package(path: "../Packages/ModelZoo"),
        .package(path: "../Packages/TensorKit"),
        .package(path: "../Packages/Schedulers"),
    ],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
    ] + targets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzSupport",
                .product(name: "SafetensorsIO", package: "SafetensorsIO"),
                .product(name: "Tokenizers", package: "Tokenizers"),
                .product(name: "ImageIO", package: "ImageIO"),
                .product(name: "ModelZoo", package: "ModelZoo"),
                .product(name: "TensorKit", package: "TensorKit"),
                .product(name: "Schedulers", package: "Schedulers"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    }
)

// swift-tools-version:6.0
import PackageDescription

/// Tokenizers: the byte-level BPE tokenizer of Qwen2/Qwen3 (Hugging Face `tokenizer.json`), with
/// the chat texts the image pipelines build.
let package = Package(
    name: "Tokenizers",
    products: [
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
    ],
    dependencies: [
        // Tests only: reading the exported token ids.
        .package(path: "../SafetensorsIO"),
    ],
    targets: [
        .target(name: "Tokenizers", swiftSettings: [.swiftLanguageMode(.v6)]),
        // zlib, for the tests' gzipped real-vocabulary fixture only.
        .systemLibrary(name: "CZlibTestSupport", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .testTarget(
            name: "TokenizersTests",
            dependencies: ["Tokenizers", "CZlibTestSupport", .product(name: "SafetensorsIO", package: "SafetensorsIO")],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

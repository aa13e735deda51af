// swift-tools-version:6.0
import PackageDescription

/// mflux-swift: the `mflux` command-line tool and the workspace's end-to-end tests.
/// Libraries live in Packages/* (each builds and tests on its own); this package depends on them
/// by path.
let package = Package(
    name: "mflux",
    products: [
        .executable(name: "mflux", targets: ["mflux"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(path: "Packages/TensorKit"),
        .package(path: "Packages/SafetensorsIO"),
        .package(path: "Packages/ImageIO"),
        .package(path: "Packages/Tokenizers"),
        .package(path: "Packages/ModelZoo"),
        .package(path: "Packages/CallbackManager"),
    ],
    targets: [
        .executableTarget(
            name: "mflux",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "TensorKit", package: "TensorKit"),
                .product(name: "SafetensorsIO", package: "SafetensorsIO"),
                .product(name: "ImageIO", package: "ImageIO"),
                .product(name: "Tokenizers", package: "Tokenizers"),
                .product(name: "ModelZoo", package: "ModelZoo"),
                .product(name: "CallbackManager", package: "CallbackManager"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "mflux-bench",
            dependencies: [
                .product(name: "TensorKit", package: "TensorKit"),
                .product(name: "Tokenizers", package: "Tokenizers"),
                .product(name: "SafetensorsIO", package: "SafetensorsIO"),
                .product(name: "ModelZoo", package: "ModelZoo"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "mfluxTests",
            dependencies: [
                .product(name: "TensorKit", package: "TensorKit"),
                .product(name: "SafetensorsIO", package: "SafetensorsIO"),
                .product(name: "ImageIO", package: "ImageIO"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

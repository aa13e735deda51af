// swift-tools-version:6.0
import PackageDescription

/// TensorKit: tensors and Metal-free CPU kernels.
///
/// OpenBLAS is *not* linked: it is loaded with `dlopen` at first use, after TensorKit has chosen
/// its kernel core type from cpuid (see `BLAS.swift` and Docs/Architecture.md). The hot
/// element-wise kernels live in the small C target `CTensorKernels`, compiled once per
/// instruction set through per-function `target` attributes and dispatched at run time, so the
/// package needs no `unsafeFlags` and can be used as a dependency.
let package = Package(
    name: "TensorKit",
    products: [
        .library(name: "TensorKit", targets: ["TensorKit"]),
    ],
    targets: [
        .target(
            name: "CTensorKernels",
            linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("m")]
        ),
        .target(
            name: "TensorKit",
            dependencies: ["CTensorKernels"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "TensorKitTests",
            dependencies: ["TensorKit", "CTensorKernels"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

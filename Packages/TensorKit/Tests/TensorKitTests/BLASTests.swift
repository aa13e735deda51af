import TensorKit
import XCTest

final class BLASTests: XCTestCase {
    /// On an AVX-512 CPU the GEMM path must run AVX-512 kernels (never the generic ones), on an
    /// AVX2 CPU at least AVX2 kernels; no environment variable is needed.
    func testKernelsMatchTheCPU() throws {
        let cpu = CPUInfo.current
        let blas = try BLAS.shared()
        let core = blas.coreName.lowercased()
        if blas.userCoreType == nil {
            if cpu.hasAVX512F {
                XCTAssertTrue(BLAS.avx512CoreNames.contains(core), "AVX-512 CPU runs OpenBLAS core '\(blas.coreName)'")
            } else if cpu.hasAVX2 {
                XCTAssertTrue(BLAS.avx2CoreNames.contains(core), "AVX2 CPU runs OpenBLAS core '\(blas.coreName)'")
            }
            XCTAssertNil(blas.warning, blas.warning ?? "")
        }
        XCTAssertFalse(blas.config.contains("USE64BITINT"), "LP64 OpenBLAS")
        XCTAssertEqual(blas.openBLASThreads, 1, "TensorKit owns the threads; OpenBLAS runs single-threaded")
    }

    func testCoreTypeChoice() {
        let intel512 = CPUInfo(vendor: "GenuineIntel", hasAVX2: true, hasAVX512F: true, hasAVX512Core: true)
        let amd2 = CPUInfo(vendor: "AuthenticAMD", hasAVX2: true, hasAVX512F: false, hasAVX512Core: false)
        let intel2 = CPUInfo(vendor: "GenuineIntel", hasAVX2: true, hasAVX512F: false, hasAVX512Core: false)
        let old = CPUInfo(vendor: "GenuineIntel", hasAVX2: false, hasAVX512F: false, hasAVX512Core: false)
        XCTAssertEqual(BLAS.preferredCoreType(for: intel512), "SkylakeX")
        XCTAssertEqual(BLAS.preferredCoreType(for: amd2), "Zen")
        XCTAssertEqual(BLAS.preferredCoreType(for: intel2), "Haswell")
        XCTAssertNil(BLAS.preferredCoreType(for: old))
        XCTAssertFalse(BLAS.isCoreAdequate("Prescott", for: intel512))
        XCTAssertFalse(BLAS.isCoreAdequate("Haswell", for: intel512))
        XCTAssertTrue(BLAS.isCoreAdequate("Cooperlake", for: intel512))
        XCTAssertTrue(BLAS.isCoreAdequate("Zen", for: amd2))
        XCTAssertFalse(BLAS.isCoreAdequate("Prescott", for: amd2))
        XCTAssertTrue(BLAS.isCoreAdequate("Prescott", for: old))
    }

    func testContextValidation() {
        XCTAssertThrowsError(try ComputeContext(threadCount: 0))
        for path in KernelPath.allCases where !path.isSupported {
            XCTAssertThrowsError(try ComputeContext(kernelPath: path), "\(path) is not supported here")
        }
        XCTAssertTrue(KernelPath.scalar.isSupported)
        XCTAssertTrue(KernelPath.best.isSupported)
    }

    /// The default context runs the best path this CPU has (AVX-512 on AVX-512 CPUs, AVX2 on
    /// AVX2 ones), and every supported path really runs here and agrees with the scalar one on
    /// a norm, a softmax and SiLU (unsupported paths are refused by the context, above).
    func testEveryPathThisCPUHasRunsAndAgrees() throws {
        let cpu = CPUInfo.current
        let expected: KernelPath = cpu.hasAVX512Core ? .avx512 : cpu.hasAVX2 ? .avx2 : .scalar
        XCTAssertEqual(KernelPath.best, expected)
        XCTAssertEqual(try ComputeContext().kernelPath, expected)
        XCTAssertEqual(KernelPath.avx2.isSupported, cpu.hasAVX2)
        let x = Tensor(shape: [7, 129], floats: (0..<(7 * 129)).map { Float(($0 * 37) % 101) / 25 - 2 })
        let weight = Tensor(shape: [129], floats: (0..<129).map { 1 + Float($0 % 7) / 10 })
        let reference = try ComputeContext(kernelPath: .scalar)
        let expectedOut = [reference.rmsNorm(x, weight: weight, eps: 1e-6), reference.softmax(x), reference.silu(x)].map { $0.floats(context: reference) }
        var ran = 0
        for path in KernelPath.allCases where path.isSupported {
            let ctx = try ComputeContext(kernelPath: path)
            XCTAssertEqual(ctx.kernelPath, path)
            let out = [ctx.rmsNorm(x, weight: weight, eps: 1e-6), ctx.softmax(x), ctx.silu(x)].map { $0.floats(context: ctx) }
            for (a, b) in zip(out, expectedOut) {
                let worst = zip(a, b).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 1
                XCTAssertLessThan(worst, 1e-5, "\(path)")
            }
            ran += 1
        }
        XCTAssertEqual(ran, KernelPath.allCases.filter(\.isSupported).count)
        XCTAssertGreaterThanOrEqual(ran, cpu.hasAVX2 ? 2 : 1)
    }
}

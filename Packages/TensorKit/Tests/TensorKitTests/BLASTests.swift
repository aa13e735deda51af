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

    /// Records which kernel paths this machine cannot test (an AVX2-only CPU cannot run the
    /// AVX-512 build; the same source is compiled for all three paths).
    func testEveryPathIsExercisedWhereSupported() throws {
        let unsupported = KernelPath.allCases.filter { !$0.isSupported }
        if !unsupported.isEmpty {
            throw XCTSkip("this CPU cannot run kernel path(s) \(unsupported.map(\.rawValue)); they are tested on CPUs that have them")
        }
    }
}

import TensorKit
import XCTest

final class VersionTests: XCTestCase {
    func testVersionReportsBLASCoreKernelPathAndThreads() throws {
        let r = try MFluxBinary.run(["--version"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("mflux "), r.stdout)
        let core = r.stdout.split(separator: "\n").first { $0.hasPrefix("blas: OpenBLAS core ") }
        XCTAssertNotNil(core, r.stdout)
        XCTAssertTrue(r.stdout.contains("kernels: \(KernelPath.best.rawValue)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("threads: "), r.stdout)
        // Without any environment variable, the executable runs kernels that suit the CPU.
        let name = core!.split(separator: " ")[3].lowercased()
        let cpu = CPUInfo.current
        if cpu.hasAVX512F {
            XCTAssertTrue(BLAS.avx512CoreNames.contains(name), "AVX-512 CPU runs \(name)")
        } else if cpu.hasAVX2 {
            XCTAssertTrue(BLAS.avx2CoreNames.contains(name), "AVX2 CPU runs \(name)")
        }
        XCTAssertFalse(r.stderr.contains("warning"), r.stderr)
    }

    func testUsersCoreTypeIsRespected() throws {
        guard CPUInfo.current.hasAVX2 else { throw XCTSkip("needs an AVX2 CPU to force the Haswell core") }
        let r = try MFluxBinary.run(["--version"], environment: ["OPENBLAS_CORETYPE": "Haswell"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("blas: OpenBLAS core Haswell (OPENBLAS_CORETYPE=Haswell from the environment)"), r.stdout)
    }

    func testUnknownArgumentFails() throws {
        let r = try MFluxBinary.run(["--no-such-flag"])
        XCTAssertNotEqual(r.status, 0)
    }
}

import Foundation
import TensorKit
import XCTest

final class TensorStorageTests: XCTestCase {
    func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "tk-\(UUID().uuidString).bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Whether `path` appears in /proc/self/maps (read with stdio: procfs files report size 0).
    func isMapped(_ path: String) throws -> Bool {
        guard let f = fopen("/proc/self/maps", "r") else { throw XCTSkip("no /proc/self/maps") }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0 {
            if String(cString: line!).contains(path) { return true }
        }
        return false
    }

    func testMappedViewIsZeroCopyAndReleasedWithLastView() throws {
        let floats: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        let path = try temporaryFile([UInt8](repeating: 0, count: 8) + floats.withUnsafeBytes { Array($0) })
        weak var weakFile: MappedFile?
        do {
            var view: Tensor
            do {
                let file = try MappedFile(path: path)
                weakFile = file
                view = try Tensor(mapping: file, offset: 8, shape: [2, 4], dtype: .float32)
            }
            XCTAssertTrue(view.isMapped, "aligned data is viewed, not copied")
            XCTAssertNotNil(weakFile, "the view keeps the mapping alive")
            XCTAssertTrue(try isMapped(path), "\(path) is mapped while a view exists")
            let ctx = try ComputeContext(threadCount: 1)
            XCTAssertEqual(view.floats(context: ctx), floats)
            let copy = view
            // Mutating copies first: the mapping is untouched and the other view unchanged.
            view.withUnsafeMutableBufferPointer(as: Float.self) { $0[0] = 42 }
            XCTAssertFalse(view.isMapped)
            XCTAssertTrue(copy.isMapped)
            XCTAssertEqual(copy.floats(context: ctx)[0], 1)
            XCTAssertEqual(view.floats(context: ctx)[0], 42)
            XCTAssertNotNil(weakFile, "the unmutated copy still holds the mapping")
            withExtendedLifetime(copy) {}
        }
        XCTAssertNil(weakFile, "the mapping object is freed with its last view")
        XCTAssertFalse(try isMapped(path), "munmap ran: the file is no longer in /proc/self/maps")
    }

    func testMisalignedDataIsCopied() throws {
        let floats: [Float] = [1.5, -2.25, 3]
        let path = try temporaryFile([0, 0, 0] + floats.withUnsafeBytes { Array($0) })
        let file = try MappedFile(path: path)
        let t = try Tensor(mapping: file, offset: 3, shape: [3], dtype: .float32)
        XCTAssertFalse(t.isMapped, "an unaligned float32 view is copied")
        XCTAssertEqual(t.floats(context: try ComputeContext(threadCount: 1)), floats)
        // Byte-sized dtypes are always aligned.
        XCTAssertTrue(try Tensor(mapping: file, offset: 1, shape: [2], dtype: .uint8).isMapped)
    }

    func testOutOfRangeMappingThrows() throws {
        let path = try temporaryFile([UInt8](repeating: 1, count: 16))
        let file = try MappedFile(path: path)
        XCTAssertThrowsError(try Tensor(mapping: file, offset: 8, shape: [3], dtype: .float32))
        XCTAssertThrowsError(try Tensor(mapping: file, offset: -4, shape: [1], dtype: .float32))
        XCTAssertThrowsError(try Tensor(mapping: file, offset: 0, shape: [Int.max, 2], dtype: .float32))
        XCTAssertThrowsError(try MappedFile(path: path + ".missing"))
        XCTAssertThrowsError(try MappedFile(path: NSTemporaryDirectory()), "a directory is not a file")
    }

    func testCopyOnWriteForOwnedStorage() throws {
        let a = Tensor(shape: [3], floats: [1, 2, 3])
        var b = a
        b.withUnsafeMutableBufferPointer(as: Float.self) { $0[1] = 9 }
        let ctx = try ComputeContext(threadCount: 1)
        XCTAssertEqual(a.floats(context: ctx), [1, 2, 3])
        XCTAssertEqual(b.floats(context: ctx), [1, 9, 3])
        XCTAssertEqual(Tensor(zeros: [2, 0, 3]).count, 0)
        XCTAssertEqual(Tensor(zeros: []).count, 1)
        XCTAssertNil(Tensor.elementCount([Int.max, 3]))
        XCTAssertNil(Tensor.elementCount([-1]))
    }
}

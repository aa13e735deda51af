import TensorKit
import XCTest

final class ShapeOpsTests: XCTestCase {
    let ctx = try! ComputeContext(threadCount: 1)

    func testConcatSplitChunk() {
        let a = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 1], floats: [5, 6])
        let c = Tensor.concat([a, b], axis: 1)
        XCTAssertEqual(c.shape, [2, 3])
        XCTAssertEqual(c.floats(context: ctx), [1, 2, 5, 3, 4, 6])
        let r = Tensor.concat([a, a], axis: 0)
        XCTAssertEqual(r.floats(context: ctx), [1, 2, 3, 4, 1, 2, 3, 4])
        let parts = c.split(sizes: [1, 2], axis: -1)
        XCTAssertEqual(parts[0].floats(context: ctx), [1, 3])
        XCTAssertEqual(parts[1].floats(context: ctx), [2, 5, 4, 6])
        let ch = Tensor(shape: [6], floats: [1, 2, 3, 4, 5, 6]).chunked(3, axis: 0)
        XCTAssertEqual(ch.map { $0.floats(context: ctx) }, [[1, 2], [3, 4], [5, 6]])
    }

    func testPermuteAndReshape() {
        let x = Tensor(shape: [2, 3, 4], floats: (0..<24).map(Float.init))
        let p = x.permuted([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        let v = p.floats(context: ctx)
        for i in 0..<4 { for j in 0..<2 { for k in 0..<3 {
            XCTAssertEqual(v[(i * 2 + j) * 3 + k], Float((j * 3 + k) * 4 + i))
        } } }
        let r = x.reshaped([6, -1])
        XCTAssertEqual(r.shape, [6, 4])
        XCTAssertEqual(r.floats(context: ctx), x.floats(context: ctx))
        // int64 ids survive permutes byte-exactly
        let ids = Tensor(shape: [2, 2], scalars: [Int64.max, 1, -5, 7], dtype: .int64)
        XCTAssertEqual(ids.permuted([1, 0]).scalars(as: Int64.self), [Int64.max, -5, 1, 7])
    }

    func testEmbeddingGather() throws {
        let table = Tensor(shape: [4, 2], floats: [0, 1, 10, 11, 20, 21, 30, 31]).converted(to: .bfloat16, context: ctx)
        let ids = Tensor(shape: [1, 3], scalars: [Int64(3), 0, 2], dtype: .int64)
        let e = try ctx.embedding(ids, table: table)
        XCTAssertEqual(e.shape, [1, 3, 2])
        XCTAssertEqual(e.floats(context: ctx), [30, 31, 0, 1, 20, 21])
        XCTAssertThrowsError(try ctx.embedding(Tensor(shape: [1], scalars: [Int32(4)], dtype: .int32), table: table))
    }

    func testImageToUInt8RoundsHalfToEven() {
        // Expected values from numpy float32: ((x/2 + 0.5).clip(0, 1) * 255).round() (half to
        // even: x = 0 gives exactly 127.5 -> 128).
        let x: [Float] = [-1, 1, 2, -3, 0, 1 / 255 - 1, 3 / 255 - 1, 5 / 255 - 1, 0.0039215689, -0.0039215689]
        let y = ctx.imageToUInt8(Tensor(shape: [x.count], floats: x)).scalars(as: UInt8.self)
        XCTAssertEqual(y, [0, 255, 255, 0, 128, 0, 1, 2, 128, 127])
        XCTAssertEqual(ctx.imageToUInt8(Tensor(shape: [1], floats: [.nan])).scalars(as: UInt8.self), [0])
        XCTAssertEqual(ctx.clampRoundToUInt8(Tensor(shape: [5], floats: [0.5, 1.5, 2.5, -4, 300])).scalars(as: UInt8.self), [0, 2, 2, 0, 255])
    }
}

/// concat/split with a context (copies spread over workers) give the bytes of the serial copies.
final class ParallelCopyTests: XCTestCase {
    func testConcatAndSplitWithAContextMatchTheSerialCopies() throws {
        let ctx = try ComputeContext(threadCount: 3)
        var checked = 0
        // Few large rows (axis 1 of [1, S, H, D]: each copy split in parts) and many rows (axis 1 of [S, D]).
        for (a, b, axis) in [([1, 700, 4, 128], [1, 300, 4, 128], 1), ([900, 700], [900, 300], 1), ([3, 5], [2, 5], 0)] {
            let x = Tensor(shape: a, floats: (0..<a.reduce(1, *)).map { Float($0 % 1013) })
            let y = Tensor(shape: b, floats: (0..<b.reduce(1, *)).map { -Float($0 % 977) })
            let serial = Tensor.concat([x, y], axis: axis)
            let parallel = Tensor.concat([x, y], axis: axis, context: ctx)
            XCTAssertEqual(parallel.shape, serial.shape)
            XCTAssertEqual(parallel.scalars(as: Float.self), serial.scalars(as: Float.self))
            let parts = parallel.split(sizes: [a[axis], b[axis]], axis: axis, context: ctx)
            XCTAssertEqual(parts[0].scalars(as: Float.self), x.scalars(as: Float.self))
            XCTAssertEqual(parts[1].scalars(as: Float.self), y.scalars(as: Float.self))
            checked += 1
        }
        XCTAssertEqual(checked, 3)
    }
}

import TensorKit

extension AutoencoderKL {
    /// ``decode(_:context:)``, or ``decodeTiled(_:tileSampleSize:overlap:context:)`` when
    /// `tileSize` (pixels, from ``VAETiling``) is given.
    public func decode(_ z: Tensor, tileSize: Int?, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        guard let tileSize else { return try decode(z, context: ctx) }
        return try decodeTiled(z, tileSampleSize: tileSize, context: ctx)
    }

    /// diffusers' `AutoencoderKL.tiled_decode`: latent tiles of `tileSampleSize / 8` (overlapping
    /// by `overlap`) decoded one at a time, each blended into the tile above and to its left over
    /// `tileSampleSize · overlap` pixels (linear ramps, evaluated as PyTorch does), then cropped
    /// and joined. Peak memory is one tile's activations instead of the whole image's. With
    /// `tileSampleSize` = the config's `sample_size` it is what diffusers computes after
    /// `vae.enable_tiling()`; latents no larger than one tile decode untiled, as there.
    /// - z: `[1, latent, h, w]` raw latents. Returns `[1, 3, 8h, 8w]`.
    public func decodeTiled(_ z: Tensor, tileSampleSize: Int, overlap: Double = 0.25, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let f = config.scaleFactor
        let tileLatent = tileSampleSize / f
        guard z.rank == 4, z.shape[0] == 1, tileLatent > 0, overlap >= 0, overlap < 1 else {
            throw .invalidInput("tiled VAE decode expects [1, C, h, w] latents and a tile of at least \(f) pixels, got \(z.shape) and \(tileSampleSize)")
        }
        let (c, h, w) = (z.shape[1], z.shape[2], z.shape[3])
        if h <= tileLatent && w <= tileLatent { return try decode(z, context: ctx) }
        let overlapSize = Int(Double(tileLatent) * (1 - overlap))
        let blendExtent = Int(Double(tileSampleSize) * overlap)
        let rowLimit = tileSampleSize - blendExtent
        guard overlapSize > 0 else { throw .invalidInput("tile of \(tileSampleSize) pixels is too small for overlap \(overlap)") }
        let zf = z.toFloat32(context: ctx).scalars(as: Float.self)
        // Decode every tile: rows[i][j] = (pixels [3, th, tw] as a flat array, th, tw).
        var rows: [[(px: [Float], h: Int, w: Int)]] = []
        for i in stride(from: 0, to: h, by: overlapSize) {
            var row: [(px: [Float], h: Int, w: Int)] = []
            for j in stride(from: 0, to: w, by: overlapSize) {
                let th = min(tileLatent, h - i), tw = min(tileLatent, w - j)
                var tile = [Float](repeating: 0, count: c * th * tw)
                for ch in 0..<c { for y in 0..<th { for x in 0..<tw { tile[(ch * th + y) * tw + x] = zf[(ch * h + i + y) * w + j + x] } } }
                let out = try decode(Tensor(shape: [1, c, th, tw], floats: tile), context: ctx)
                row.append((out.scalars(as: Float.self), out.shape[2], out.shape[3]))
            }
            rows.append(row)
        }
        // Blend (in place, as diffusers' blend_v / blend_h modify the later tile), crop, join.
        let outH = min(h * f, (rows.count - 1) * rowLimit + min(rowLimit, rows.last![0].h))
        let outW = min(w * f, rows[0].dropLast().count * rowLimit + min(rowLimit, rows[0].last!.w))
        var result = [Float](repeating: 0, count: 3 * outH * outW)
        for i in rows.indices {
            for j in rows[i].indices {
                var b = rows[i][j]
                if i > 0 {
                    let a = rows[i - 1][j], e = min(a.h, b.h, blendExtent)
                    for y in 0..<e {
                        let wa = Float(1 - Double(y) / Double(e)), wb = Float(Double(y) / Double(e))
                        for ch in 0..<3 { for x in 0..<b.w {
                            let bi = (ch * b.h + y) * b.w + x, ai = (ch * a.h + a.h - e + y) * a.w + x
                            b.px[bi] = a.px[ai] * wa + b.px[bi] * wb
                        } }
                    }
                }
                if j > 0 {
                    let a = rows[i][j - 1], e = min(a.w, b.w, blendExtent)
                    for x in 0..<e {
                        let wa = Float(1 - Double(x) / Double(e)), wb = Float(Double(x) / Double(e))
                        for ch in 0..<3 { for y in 0..<b.h {
                            let bi = (ch * b.h + y) * b.w + x, ai = (ch * a.h + y) * a.w + a.w - e + x
                            b.px[bi] = a.px[ai] * wa + b.px[bi] * wb
                        } }
                    }
                }
                rows[i][j] = b
                let y0 = i * rowLimit, x0 = j * rowLimit
                for ch in 0..<3 {
                    for y in 0..<min(rowLimit, b.h) where y0 + y < outH {
                        for x in 0..<min(rowLimit, b.w) where x0 + x < outW {
                            result[(ch * outH + y0 + y) * outW + x0 + x] = b.px[(ch * b.h + y) * b.w + x]
                        }
                    }
                }
            }
        }
        return Tensor(shape: [1, 3, outH, outW], floats: result)
    }
}

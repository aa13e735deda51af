import CallbackManager
import Foundation
import ModelZoo
import ReferenceTesting
import TensorKit
import XCTest

/// Records loads, releases and loop events.
final class EventLog: StageCallback, InLoopCallback, InterruptCallback {
    var lines: [String] = []
    var cancelAtStep: Int?
    func stage(_ event: StageEvent, manager: CallbackManager) {
        switch event {
        case .loaded(let c, _): lines.append("load \(c)")
        case .released(let c): lines.append("release \(c)")
        case .promptEncoded: lines.append("encode")
        case .decoded(let i, _): lines.append("decode \(i)")
        case .wrote: break
        }
    }
    func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor, manager: CallbackManager) {
        lines.append("step \(step.number)/\(step.total)")
        if step.number == cancelAtStep { manager.cancellation.cancel(signal: 2) }
    }
    func interrupted(_ info: LoopInfo, lastStep: StepInfo?, latents: Tensor, manager: CallbackManager) {
        lines.append("interrupted \(lastStep?.number ?? 0)")
    }
}

/// Decodes every step's latents through the manager (as stepwise previews do).
final class PreviewProbe: InLoopCallback, NeedsLatentDecoder {
    var sizes: [[Int]] = []
    func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor, manager: CallbackManager) throws {
        let image = try manager.decode(latents)
        sizes.append([image.height, image.width])
    }
}

/// The shared generation core with the committed tiny Z-Image checkpoint.
final class GeneratorTests: XCTestCase {
    let ctx = try! ComputeContext()

    func model() throws -> ZImageTurbo { try ZImageTurbo(modelPath: try ReferenceExports.root() + "/zimage/checkpoints/base") }

    func request(seed: UInt64, prompt: String = "a red fox") -> GenerationRequest {
        GenerationRequest(prompt: prompt, seed: seed, steps: 3, width: 48, height: 32)
    }

    func testSeveralSeedsLoadEachComponentOnceAndMatchSingleRuns() throws {
        let log = EventLog()
        let callbacks = CallbackManager()
        callbacks.register(log)
        let generator = Generator(model: try model(), callbacks: callbacks)
        let batch = try [7, 8, 9].enumerated().map { i, s in
            try generator.generate(request(seed: UInt64(s)), imageIndex: i, imageCount: 3, context: ctx)
        }
        XCTAssertEqual(log.lines.filter { $0.hasPrefix("load ") }, ["load text_encoder", "load transformer", "load vae"])
        XCTAssertEqual(log.lines.filter { $0 == "encode" }.count, 1, "one prompt, encoded once")
        XCTAssertEqual(log.lines.filter { $0.hasPrefix("step ") }.count, 9)
        XCTAssertEqual(generator.loadedComponents, ["transformer", "vae"])
        for (i, s) in [7, 8, 9].enumerated() {
            let single = try Generator(model: try model()).generate(request(seed: UInt64(s)), context: ctx)
            XCTAssertEqual(batch[i].pixels.scalars(as: UInt8.self), single.pixels.scalars(as: UInt8.self), "seed \(s)")
        }
        XCTAssertNotEqual(batch[0].pixels.scalars(as: UInt8.self), batch[1].pixels.scalars(as: UInt8.self), "seeds differ")
        XCTAssertEqual(batch[0].sigmas.count, 4)
        XCTAssertEqual(batch[1].timings["encode"], 0)
        // A second prompt loads the text encoder again (it was released) and nothing else.
        log.lines = []
        _ = try generator.generate(request(seed: 1, prompt: "a blue bird"), context: ctx)
        XCTAssertEqual(log.lines.filter { $0.hasPrefix("load ") || $0.hasPrefix("release ") }, ["load text_encoder", "release text_encoder"])
        generator.releaseAll()
        XCTAssertEqual(generator.loadedComponents, [])
    }

    func testLowMemoryReleasesEveryComponentAfterItsStage() throws {
        let log = EventLog()
        let callbacks = CallbackManager()
        callbacks.register(log)
        let generator = Generator(model: try model(), residency: .lowMemory, callbacks: callbacks)
        let a = try generator.generate(request(seed: 3), context: ctx)
        let b = try generator.generate(request(seed: 4), context: ctx)
        let stages = log.lines.filter { !$0.hasPrefix("step ") }
        XCTAssertEqual(stages, ["load text_encoder", "encode", "release text_encoder", "load transformer", "release transformer",
                                "load vae", "decode 0", "release vae",
                                "load transformer", "release transformer", "load vae", "decode 0", "release vae"])
        XCTAssertEqual(generator.loadedComponents, [])
        let balanced = Generator(model: try model())
        XCTAssertEqual(a.pixels.scalars(as: UInt8.self), try balanced.generate(request(seed: 3), context: ctx).pixels.scalars(as: UInt8.self))
        XCTAssertEqual(b.pixels.scalars(as: UInt8.self), try balanced.generate(request(seed: 4), context: ctx).pixels.scalars(as: UInt8.self))
    }

    /// A single run (the CLI's default) keeps the transformer for every image but the last, and
    /// releases it before the last one is decoded; the images are the balanced policy's.
    func testSingleRunReleasesTheTransformerBeforeTheLastDecode() throws {
        let log = EventLog()
        let callbacks = CallbackManager()
        callbacks.register(log)
        let generator = Generator(model: try model(), residency: .singleRun, callbacks: callbacks)
        let a = try generator.generate(request(seed: 3), imageIndex: 0, imageCount: 2, context: ctx)
        XCTAssertEqual(generator.loadedComponents, ["transformer", "vae"])
        let b = try generator.generate(request(seed: 4), imageIndex: 1, imageCount: 2, context: ctx)
        let stages = log.lines.filter { !$0.hasPrefix("step ") }
        XCTAssertEqual(stages, ["load text_encoder", "encode", "release text_encoder", "load transformer", "load vae", "decode 0",
                                "release transformer", "decode 1"])
        XCTAssertEqual(generator.loadedComponents, ["vae"])
        let balanced = Generator(model: try model())
        XCTAssertEqual(a.pixels.scalars(as: UInt8.self), try balanced.generate(request(seed: 3), context: ctx).pixels.scalars(as: UInt8.self))
        XCTAssertEqual(b.pixels.scalars(as: UInt8.self), try balanced.generate(request(seed: 4), context: ctx).pixels.scalars(as: UInt8.self))
    }

    /// --low-ram decodes images wider than 512 px in 512-px tiles (diffusers' tiled decode).
    func testLowMemoryDecodesLargeImagesInTiles() throws {
        XCTAssertNil(VAETiling.tileSize(width: 512, height: 512, lowMemory: true))
        XCTAssertEqual(VAETiling.tileSize(width: 528, height: 64, lowMemory: true), 512)
        XCTAssertNil(VAETiling.tileSize(width: 2048, height: 2048, lowMemory: false))
        XCTAssertEqual(VAETiling.tileSize(width: 2064, height: 64, lowMemory: false), 1024)
        let m = try model()
        let request = GenerationRequest(prompt: "a wide red fox", seed: 3, steps: 1, width: 528, height: 32)
        let low = try Generator(model: m, residency: .lowMemory).generate(request, context: ctx)
        let vae = try m.loadDecoder()
        let tiled = try m.decode(low.latents, with: vae, tileSize: 512, context: ctx)
        let untiled = try m.decode(low.latents, with: vae, tileSize: nil, context: ctx)
        XCTAssertEqual(low.pixels.scalars(as: UInt8.self), tiled.scalars(as: UInt8.self))
        XCTAssertNotEqual(low.pixels.scalars(as: UInt8.self), untiled.scalars(as: UInt8.self), "the tiles show in the tiny VAE")
        XCTAssertEqual(low.pixels.shape, [32, 528, 3])
    }

    func testKeepAllKeepsTheTextEncoder() throws {
        let generator = Generator(model: try model(), residency: .keepAll)
        _ = try generator.generate(request(seed: 1), context: ctx)
        XCTAssertEqual(generator.loadedComponents, ["text_encoder", "transformer", "vae"])
    }

    func testCancellationStopsAfterTheCurrentStep() throws {
        let log = EventLog()
        log.cancelAtStep = 2
        let callbacks = CallbackManager()
        callbacks.register(log)
        let generator = Generator(model: try model(), residency: .lowMemory, callbacks: callbacks)
        XCTAssertThrowsError(try generator.generate(request(seed: 1), context: ctx)) {
            XCTAssertEqual($0 as? ModelError, .cancelled(stage: "after step 2/3", signal: 2))
            XCTAssertEqual("\($0)", "interrupted after step 2/3; no image written for it")
        }
        XCTAssertEqual(log.lines.filter { $0.hasPrefix("step ") || $0.hasPrefix("interrupted") || $0.hasPrefix("decode") },
                       ["step 1/3", "step 2/3", "interrupted 2"])
        XCTAssertEqual(generator.loadedComponents, [], "low-ram releases what was loaded")
        // A cancelled token stops the next run before anything is loaded.
        XCTAssertThrowsError(try generator.generate(request(seed: 2), context: ctx)) {
            XCTAssertEqual($0 as? ModelError, .cancelled(stage: "before encoding the prompt", signal: 2))
        }
    }

    func testPreviewsDecodeDuringTheLoop() throws {
        let probe = PreviewProbe()
        let callbacks = CallbackManager()
        callbacks.register(probe)
        let generator = Generator(model: try model(), callbacks: callbacks)
        _ = try generator.generate(request(seed: 5), context: ctx)
        XCTAssertEqual(probe.sizes, [[32, 48], [32, 48], [32, 48]])
        XCTAssertNil(callbacks.decoder, "the decoder is handed over for the run only")
    }

    func testLoopStartIndexIsChecked() throws {
        let loop = try ZImageSchedule.loop(config: try model().schedulerConfig, steps: 4, imageSeqLen: 16)
        XCTAssertEqual(loop.sigmas.count, 5)
        XCTAssertThrowsError(try DenoisingLoop(scheduler: loop.scheduler, startIndex: 4))
        XCTAssertThrowsError(try DenoisingLoop(scheduler: loop.scheduler, startIndex: -1))
        XCTAssertEqual(try DenoisingLoop(scheduler: loop.scheduler, startIndex: 3).startIndex, 3)
    }
}

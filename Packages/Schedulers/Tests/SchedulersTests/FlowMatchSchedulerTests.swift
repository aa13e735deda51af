import Foundation
import ReferenceTesting
import SafetensorsIO
import Schedulers
import TensorKit
import XCTest

final class FlowMatchSchedulerTests: XCTestCase {
    let ctx = try! ComputeContext(threadCount: 2)

    func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    func config(_ model: String) throws -> FlowMatchEulerDiscreteSchedulerConfig {
        let root = try ReferenceExports.root()
        return try FlowMatchEulerDiscreteSchedulerConfig.load(path: "\(root)/\(model)/checkpoints/base/scheduler/scheduler_config.json")
    }

    /// Z-Image: static shift 3 on torch.linspace sigmas, for many step counts, bit for bit; and
    /// the time the pipeline feeds its transformer, (1000 - t) / 1000.
    func testZImageScheduleIsBitExact() throws {
        let root = try ReferenceExports.root()
        let table = try SafetensorsFile(path: root + "/scheduler/tensors.safetensors")
        var scheduler = try FlowMatchEulerDiscreteScheduler(config: try config("zimage"))
        XCTAssertEqual(scheduler.config.shift, 3)
        XCTAssertFalse(scheduler.config.useDynamicShifting)
        var checked = 0
        for name in table.tensorNames where name.hasPrefix("zimage.") && name.hasSuffix(".sigmas") {
            let key = String(name.dropLast(".sigmas".count))
            let n = Int(key.split(separator: ".")[1].dropFirst())!
            try scheduler.setTimesteps(sigmas: FlowMatchSigmas.zImage(steps: n), mu: FlowMatchSigmas.calculateShift(imageSeqLen: 1024))
            XCTAssertEqual(bits(scheduler.sigmas), bits(try table.tensor(name).floats(context: ctx)), "\(key) sigmas")
            XCTAssertEqual(bits(scheduler.timesteps), bits(try table.tensor(key + ".timesteps").floats(context: ctx)), "\(key) timesteps")
            let modelT = scheduler.timesteps.map { (1000 - $0) / 1000 }
            XCTAssertEqual(bits(modelT), bits(try table.tensor(key + ".model_t").floats(context: ctx)), "\(key) model t")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 15)
        // Worked values from the notes (9 steps).
        try scheduler.setTimesteps(sigmas: FlowMatchSigmas.zImage(steps: 9), mu: nil)
        XCTAssertEqual(Double(scheduler.sigmas[1]), 0.96, accuracy: 1e-6)
        XCTAssertEqual(Double(scheduler.sigmas[8]), 0.27273, accuracy: 1e-5)
        XCTAssertEqual(scheduler.sigmas.last, 0)
    }

    /// FLUX.2 [klein]: exponential dynamic shift with compute_empirical_mu, for several image
    /// sequence lengths and step counts, bit for bit.
    func testFlux2ScheduleIsBitExact() throws {
        let root = try ReferenceExports.root()
        let table = try SafetensorsFile(path: root + "/scheduler/tensors.safetensors")
        let manifest = try JSONParser.parse(Array(Data(contentsOf: URL(fileURLWithPath: root + "/scheduler/manifest.json"))))
        var scheduler = try FlowMatchEulerDiscreteScheduler(config: try config("klein"))
        XCTAssertTrue(scheduler.config.useDynamicShifting)
        var checked = 0
        for name in table.tensorNames where name.hasPrefix("klein.") && name.hasSuffix(".sigmas") {
            let key = String(name.dropLast(".sigmas".count))
            let parts = key.split(separator: ".")
            let seq = Int(parts[1].dropFirst(3))!, n = Int(parts[2].dropFirst())!
            let mu = FlowMatchSigmas.flux2EmpiricalMu(imageSeqLen: seq, steps: n)
            XCTAssertEqual(mu, Double(manifest["mu"]![key]!.stringValue!)!, "\(key) mu")
            try scheduler.setTimesteps(sigmas: FlowMatchSigmas.flux2(steps: n), mu: mu)
            XCTAssertEqual(bits(scheduler.sigmas), bits(try table.tensor(name).floats(context: ctx)), "\(key) sigmas")
            XCTAssertEqual(bits(scheduler.timesteps), bits(try table.tensor(key + ".timesteps").floats(context: ctx)), "\(key) timesteps")
            XCTAssertEqual(bits(scheduler.timesteps.map { $0 / 1000 }), bits(try table.tensor(key + ".model_t").floats(context: ctx)), "\(key) model t")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 60)
        // Worked values from the notes: 4 steps at 512² (1024 tokens).
        try scheduler.setTimesteps(sigmas: FlowMatchSigmas.flux2(steps: 4), mu: FlowMatchSigmas.flux2EmpiricalMu(imageSeqLen: 1024, steps: 4))
        XCTAssertEqual(Double(scheduler.sigmas[1]), 0.95809, accuracy: 1e-5)
        XCTAssertEqual(Double(scheduler.sigmas[3]), 0.71750, accuracy: 1e-5)
    }

    /// Every exported pipeline run: the schedule and each Euler step reproduce diffusers bit for bit.
    func testEulerStepsOfEveryCaseAreBitExact() throws {
        let names = try ReferenceExports.caseNames()
        XCTAssertGreaterThanOrEqual(names.count, 10, "every case")
        for name in names {
            let c = try ReferenceCase(name)
            let model = c.manifestValue("model")!.stringValue!
            let steps = c.manifestValue("steps")!.intValue!
            var scheduler = try FlowMatchEulerDiscreteScheduler(config: try config(model))
            if model == "zimage" {
                try scheduler.setTimesteps(sigmas: FlowMatchSigmas.zImage(steps: steps), mu: 0)
            } else {
                let seq = try c.tensor("latents.packed").shape[1]
                try scheduler.setTimesteps(sigmas: FlowMatchSigmas.flux2(steps: steps),
                                           mu: FlowMatchSigmas.flux2EmpiricalMu(imageSeqLen: seq, steps: steps))
            }
            XCTAssertEqual(bits(scheduler.sigmas), bits(try c.tensor("scheduler.sigmas").floats(context: ctx)), name)
            XCTAssertEqual(bits(scheduler.timesteps), bits(try c.tensor("scheduler.timesteps").floats(context: ctx)), name)
            var latents = try c.tensor(model == "zimage" ? "noise" : "latents.packed")
            for i in 0..<steps {
                latents = scheduler.step(modelOutput: try c.tensor("step.\(i).noise_pred"), sample: latents, index: i, context: ctx)
                XCTAssertEqual(bits(latents.floats(context: ctx)), bits(try c.tensor("step.\(i).latents").floats(context: ctx)), "\(name) step \(i)")
            }
        }
    }

    func testLinspacesAndConfigValidation() throws {
        XCTAssertEqual(FlowMatchSigmas.torchLinspace(start: 1, end: 0.25, count: 1), [1])
        XCTAssertEqual(FlowMatchSigmas.numpyLinspace(start: 1, stop: 0.5, count: 3), [1, 0.75, 0.5])
        XCTAssertThrowsError(try FlowMatchEulerDiscreteSchedulerConfig.load(path: "/nonexistent/scheduler_config.json"))
        var c = FlowMatchEulerDiscreteSchedulerConfig()
        c.useKarrasSigmas = true
        XCTAssertThrowsError(try c.validate())
        let json = #"{"_class_name": "FlowMatchEulerDiscreteScheduler", "shift": 6.0, "use_dynamic_shifting": false}"#
        let parsed = try JSONDecoder().decode(FlowMatchEulerDiscreteSchedulerConfig.self, from: Data(json.utf8))
        XCTAssertEqual(parsed.shift, 6)
        XCTAssertEqual(parsed.numTrainTimesteps, 1000)
        var s = try FlowMatchEulerDiscreteScheduler(config: FlowMatchEulerDiscreteSchedulerConfig())
        XCTAssertThrowsError(try s.setTimesteps(sigmas: [], mu: nil))
        var dynamic = FlowMatchEulerDiscreteSchedulerConfig()
        dynamic.useDynamicShifting = true
        s = try FlowMatchEulerDiscreteScheduler(config: dynamic)
        XCTAssertThrowsError(try s.setTimesteps(sigmas: [1], mu: nil), "mu is required with dynamic shifting")
    }
}

import CallbackManager
import Foundation
import ImageIO
import TensorKit
import XCTest

/// Records every call it receives.
final class Recorder: BeforeLoopCallback, InLoopCallback, AfterLoopCallback, InterruptCallback, StageCallback {
    var calls: [String] = []
    func beforeLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) { calls.append("before \(info.seed)") }
    func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor, manager: CallbackManager) { calls.append("step \(step.number)/\(step.total)") }
    func afterLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) { calls.append("after") }
    func interrupted(_ info: LoopInfo, lastStep: StepInfo?, latents: Tensor, manager: CallbackManager) { calls.append("interrupted \(lastStep?.number ?? 0)") }
    func stage(_ event: StageEvent, manager: CallbackManager) { calls.append("stage \(event)") }
}

/// Implements one kind only.
final class StepsOnly: InLoopCallback {
    var steps = 0
    func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor, manager: CallbackManager) { steps += 1 }
}

/// Runs a loop the way a model does: before, steps with a cancellation check, after or interrupted.
func runFakeLoop(_ manager: CallbackManager, info: LoopInfo, cancelAfter: Int? = nil) throws {
    var latents = Tensor(shape: [1, 1, 2, 2], floats: [0, 0, 0, 0])
    try manager.beforeLoop(info, latents: latents)
    var last: StepInfo?
    for i in info.startIndex..<info.scheduleSteps {
        let step = StepInfo(index: i, info: info)
        latents = Tensor(shape: [1, 1, 2, 2], floats: Array(repeating: Float(step.number), count: 4))
        try manager.inLoop(info, step: step, latents: latents)
        last = step
        if step.number == cancelAfter { manager.cancellation.cancel(signal: 2) }
        do throws(GenerationCancelled) {
            try manager.checkCancellation("after step \(step.number)/\(step.total)")
        } catch {
            try manager.interrupted(info, lastStep: last, latents: latents)
            throw error
        }
    }
    try manager.afterLoop(info, latents: latents)
}

final class CallbackManagerTests: XCTestCase {
    let info = LoopInfo(seed: 7, prompt: "a cat", width: 32, height: 16, sigmas: [1, 0.75, 0.5, 0.25, 0])

    func testEachKindIsCalledInOrderAndRegistrationIsOnce() throws {
        let manager = CallbackManager()
        let r = Recorder(), s = StepsOnly()
        manager.register(r)
        manager.register(r)
        manager.register(s)
        XCTAssertEqual(manager.count, 2)
        XCTAssertFalse(manager.needsDecoder)
        manager.stage(.loaded(component: "transformer", seconds: 0.5))
        try runFakeLoop(manager, info: info)
        XCTAssertEqual(r.calls, ["stage loaded(component: \"transformer\", seconds: 0.5)", "before 7",
                                 "step 1/4", "step 2/4", "step 3/4", "step 4/4", "after"])
        XCTAssertEqual(s.steps, 4)
    }

    func testStepInfoFollowsTheStartIndex() {
        let img2img = LoopInfo(seed: 1, prompt: "p", width: 16, height: 16, sigmas: [1, 0.75, 0.5, 0.25, 0], startIndex: 2)
        XCTAssertEqual(img2img.steps, 2)
        let s = StepInfo(index: 2, info: img2img)
        XCTAssertEqual(s.number, 1)
        XCTAssertEqual(s.total, 2)
        XCTAssertEqual(s.sigma, 0.5)
        XCTAssertEqual(s.nextSigma, 0.25)
    }

    func testCancellationStopsAfterTheCurrentStepAndCallsInterrupt() throws {
        let manager = CallbackManager()
        let r = Recorder()
        manager.register(r)
        XCTAssertThrowsError(try runFakeLoop(manager, info: info, cancelAfter: 2)) { error in
            let e = error as? GenerationCancelled
            XCTAssertEqual(e?.stage, "after step 2/4")
            XCTAssertEqual(e?.signal, 2)
            XCTAssertTrue("\(error)".contains("interrupted after step 2/4"), "\(error)")
        }
        XCTAssertEqual(r.calls, ["before 7", "step 1/4", "step 2/4", "interrupted 2"])
    }

    func testTokenKeepsTheFirstSignal() {
        let t = CancellationToken()
        XCTAssertFalse(t.isCancelled)
        XCTAssertNil(t.signal)
        t.cancel(signal: 15)
        t.cancel(signal: 2)
        XCTAssertTrue(t.isCancelled)
        XCTAssertEqual(t.signal, 15)
    }

    func testSignalCancelsTheToken() throws {
        let token = CancellationToken()
        let out = BufferOutput()
        var watcher: SignalCancellation? = SignalCancellation(token: token, signals: [SIGUSR1], output: out, quitOnSecond: false)
        XCTAssertNotNil(watcher)
        // The watch starts asynchronously: signal until it is seen (later ones are ignored).
        let deadline = Date().addingTimeInterval(10)
        while !token.isCancelled && Date() < deadline {
            kill(getpid(), SIGUSR1)
            usleep(20_000)
        }
        XCTAssertEqual(token.signal, SIGUSR1)
        XCTAssertTrue(out.text.contains("stopping after the current step"), out.text)
        watcher = nil
    }

    func testProgressPlainLinesAndLiveBar() throws {
        for terminal in [false, true] {
            let out = BufferOutput(isTerminal: terminal)
            let manager = CallbackManager()
            manager.register(ProgressReporter(output: out))
            manager.stage(.loaded(component: "vae", seconds: 0.25))
            try runFakeLoop(manager, info: info)
            let text = out.text
            XCTAssertTrue(text.contains("loaded vae in 0.25 s"), text)
            for i in 1...4 { XCTAssertTrue(text.contains("step \(i)/4"), text) }
            XCTAssertTrue(text.contains("ETA"), text)
            XCTAssertTrue(text.contains("denoised 4 steps"), text)
            if terminal {
                XCTAssertTrue(text.contains("\r"), "a live bar is redrawn in place")
                XCTAssertTrue(text.contains("[######------------------]"), text)
            } else {
                XCTAssertFalse(text.contains("\r"))
                XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("step ") }.count, 4)
            }
        }
    }

    func testVerboseReportsEveryStepAndPeakMemory() throws {
        let out = BufferOutput()
        let manager = CallbackManager()
        manager.register(VerboseReporter(output: out))
        try runFakeLoop(manager, info: info)
        XCTAssertEqual(out.text.split(separator: "\n").filter { $0.hasPrefix("step ") && $0.contains("peak RSS") }.count, 4, out.text)
        XCTAssertTrue(out.text.contains("loop: 4 steps in"), out.text)
        XCTAssertGreaterThan(PeakMemory.bytes, 1 << 20)
    }
}

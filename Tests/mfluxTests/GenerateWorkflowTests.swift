import Foundation
import ImageIO
import XCTest

/// The everyday `mflux generate` workflow, end to end on the committed tiny Z-Image checkpoint:
/// several seeds, stepwise images, metadata (chunks, sidecar, reuse), prompts from stdin/files,
/// `mflux info` and `mflux models`.
final class GenerateWorkflowTests: XCTestCase {
    static let model = MFluxBinary.repositoryRoot + "/ReferenceExports/zimage/checkpoints/base"
    static let small = ["--steps", "2", "--width", "32", "--height", "48"]

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "mflux-flow-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func pixels(_ path: String) throws -> [UInt8] { try PNG.read(path).image.pixels }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    func testThreeSeedsInOneRunEqualThreeSingleRunsAndLoadEachComponentOnce() throws {
        let dir = try temporaryDirectory()
        let r = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt", "a red fox", "--seed", "11", "12", "13",
                                     "--output", dir + "/fox.png"] + Self.small)
        XCTAssertEqual(r.status, 0, r.stderr)
        let written = lines(r.stdout)
        XCTAssertEqual(written, [11, 12, 13].map { dir + "/fox_seed_\($0).png" })
        for component in ["text_encoder", "transformer", "vae"] {
            XCTAssertEqual(lines(r.stderr).filter { $0.hasPrefix("loaded \(component) ") }.count, 1, "\(component) loaded once: \(r.stderr)")
        }
        XCTAssertEqual(lines(r.stderr).filter { $0.hasPrefix("encoded the prompt") }.count, 1, r.stderr)
        XCTAssertEqual(lines(r.stderr).filter { $0.hasPrefix("step 2/2") }.count, 3, r.stderr)
        for seed in [11, 12, 13] {
            let single = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt", "a red fox", "--seed", "\(seed)",
                                              "--output", dir + "/single_\(seed).png"] + Self.small)
            XCTAssertEqual(single.status, 0, single.stderr)
            XCTAssertEqual(try pixels(dir + "/fox_seed_\(seed).png"), try pixels(dir + "/single_\(seed).png"), "seed \(seed)")
        }
        XCTAssertNotEqual(try pixels(dir + "/fox_seed_11.png"), try pixels(dir + "/fox_seed_12.png"))
        // --low-ram gives the same pixels, loading per image.
        let low = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt", "a red fox", "--seed", "11", "12", "--low-ram",
                                       "--output", dir + "/low.png"] + Self.small)
        XCTAssertEqual(low.status, 0, low.stderr)
        XCTAssertEqual(lines(low.stderr).filter { $0.hasPrefix("loaded transformer") }.count, 2, low.stderr)
        XCTAssertEqual(lines(low.stderr).filter { $0 == "released transformer" }.count, 2, low.stderr)
        XCTAssertEqual(try pixels(dir + "/low_seed_12.png"), try pixels(dir + "/fox_seed_12.png"))
    }

    /// FLUX.2-klein runs through the same CLI (no klein code there): several seeds with the model
    /// loaded once, stepwise images, metadata, and the one note that a distilled model ignores --guidance.
    func testKleinThroughTheSameCommand() throws {
        let dir = try temporaryDirectory()
        let klein = MFluxBinary.repositoryRoot + "/ReferenceExports/klein/checkpoints/base"
        let args = ["generate", "--model", klein, "--prompt", "a lighthouse", "--steps", "2", "--width", "32", "--height", "48"]
        let r = try MFluxBinary.run(args + ["--seed", "5", "6", "--guidance", "3", "--metadata", "--output", dir + "/k.png",
                                            "--stepwise-image-output-dir", dir + "/steps"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(lines(r.stdout), [dir + "/k_seed_5.png", dir + "/k_seed_6.png"])
        XCTAssertEqual(lines(r.stderr).filter { $0.contains("ignores --guidance") }.count, 1, r.stderr)
        XCTAssertEqual(lines(r.stderr).filter { $0.hasPrefix("loaded transformer") }.count, 1, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/steps").sorted(),
                       ["seed_5_composite.png", "seed_5_step1of2.png", "seed_5_step2of2.png",
                        "seed_6_composite.png", "seed_6_step1of2.png", "seed_6_step2of2.png"])
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/k_seed_6.metadata.json"))) as! [String: Any]
        XCTAssertEqual(sidecar["pipeline"] as? String, "Flux2KleinPipeline")
        XCTAssertNil(sidecar["guidance"], "a distilled model records no guidance")
        let single = try MFluxBinary.run(args + ["--seed", "6", "--output", dir + "/single.png"])
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertFalse(single.stderr.contains("ignores --guidance"))
        XCTAssertEqual(try pixels(dir + "/k_seed_6.png"), try pixels(dir + "/single.png"))
        XCTAssertEqual(try pixels(dir + "/steps/seed_6_step2of2.png"), try pixels(dir + "/single.png"))
    }

    func testAutoSeedsAndSeedTemplate() throws {
        let dir = try temporaryDirectory()
        let r = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt", "a cat", "--auto-seeds", "2",
                                     "--output", dir + "/cat_{seed}.png"] + Self.small)
        XCTAssertEqual(r.status, 0, r.stderr)
        let seedLine = try XCTUnwrap(lines(r.stderr).first { $0.hasPrefix("seeds: ") }, r.stderr)
        let seeds = seedLine.dropFirst(7).split(separator: " ").map(String.init)
        XCTAssertEqual(seeds.count, 2)
        XCTAssertNotEqual(seeds[0], seeds[1])
        XCTAssertTrue(seeds.allSatisfy { UInt64($0)! <= 10_000_000 })
        XCTAssertEqual(lines(r.stdout), seeds.map { dir + "/cat_\($0).png" })
    }

    func testStepwiseImagesAndComposite() throws {
        let dir = try temporaryDirectory()
        let r = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt", "a cat", "--seed", "4", "--steps", "3",
                                     "--width", "32", "--height", "48", "--output", dir + "/cat.png",
                                     "--stepwise-image-output-dir", dir + "/steps/nested"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/steps/nested").sorted()
        XCTAssertEqual(names, ["seed_4_composite.png", "seed_4_step1of3.png", "seed_4_step2of3.png", "seed_4_step3of3.png"])
        let composite = try PNG.read(dir + "/steps/nested/seed_4_composite.png").image
        XCTAssertEqual([composite.width, composite.height], [96, 48])
        // The last step's preview is the final image.
        XCTAssertEqual(try pixels(dir + "/steps/nested/seed_4_step3of3.png"), try pixels(dir + "/cat.png"))
        XCTAssertNotEqual(try pixels(dir + "/steps/nested/seed_4_step1of3.png"), try pixels(dir + "/cat.png"))
    }

    func testMetadataChunksSidecarAndReuse() throws {
        let dir = try temporaryDirectory()
        let r = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt", "a red fox", "--negative-prompt", "blurry",
                                     "--guidance", "1.5", "--seed", "21", "--metadata", "--output", dir + "/fox.png"] + Self.small)
        XCTAssertEqual(r.status, 0, r.stderr)
        let (_, text) = try PNG.read(dir + "/fox.png")
        let chunk = { (k: String) in text.first { $0.key == k }?.value }
        XCTAssertEqual(chunk("prompt"), "a red fox")
        XCTAssertEqual(chunk("negative_prompt"), "blurry")
        XCTAssertEqual(chunk("seed"), "21")
        XCTAssertEqual(chunk("steps"), "2")
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/fox.metadata.json"))) as! [String: Any]
        let embedded = try JSONSerialization.jsonObject(with: Data(chunk("mflux_metadata")!.utf8)) as! [String: Any]
        XCTAssertEqual(NSDictionary(dictionary: sidecar), NSDictionary(dictionary: embedded), "the sidecar is the embedded record")
        XCTAssertEqual(sidecar["prompt"] as? String, "a red fox")
        XCTAssertEqual(sidecar["negative_prompt"] as? String, "blurry")
        XCTAssertEqual(sidecar["seed"] as? Int, 21)
        XCTAssertEqual(sidecar["steps"] as? Int, 2)
        XCTAssertEqual(sidecar["width"] as? Int, 32)
        XCTAssertEqual(sidecar["height"] as? Int, 48)
        XCTAssertEqual(sidecar["guidance"] as? Double, 1.5)
        XCTAssertEqual(sidecar["precision"] as? String, "fp32")
        XCTAssertEqual(sidecar["model"] as? String, Self.model)
        XCTAssertEqual(sidecar["pipeline"] as? String, "ZImagePipeline")
        XCTAssertNotNil(sidecar["mflux_version"] as? String)
        XCTAssertEqual((sidecar["sigmas"] as? [Double])?.count, 3)
        XCTAssertEqual(Set((sidecar["timings"] as? [String: Double])?.keys ?? [:].keys), ["encode", "denoise", "decode"])
        XCTAssertNotNil((sidecar["versions"] as? [String: String])?["mflux_swift"])
        // Reusing the sidecar or the PNG reproduces the image; explicit flags win.
        for source in [dir + "/fox.metadata.json", dir + "/fox.png"] {
            let again = try MFluxBinary.run(["generate", "--config-from-metadata", source, "--output", dir + "/again.png"])
            XCTAssertEqual(again.status, 0, again.stderr)
            XCTAssertEqual(try pixels(lines(again.stdout)[0]), try pixels(dir + "/fox.png"), source)
        }
        let other = try MFluxBinary.run(["generate", "-C", dir + "/fox.png", "--seed", "22", "--output", dir + "/other.png"])
        XCTAssertEqual(other.status, 0, other.stderr)
        let (_, otherText) = try PNG.read(dir + "/other.png")
        XCTAssertEqual(otherText.first { $0.key == "seed" }?.value, "22")
        XCTAssertEqual(otherText.first { $0.key == "negative_prompt" }?.value, "blurry")
        XCTAssertNotEqual(try pixels(dir + "/other.png"), try pixels(dir + "/fox.png"))
        // mflux info prints the record.
        let info = try MFluxBinary.run(["info", dir + "/fox.png"])
        XCTAssertEqual(info.status, 0, info.stderr)
        for line in ["Prompt: a red fox", "Negative Prompt: blurry", "Seed: 21", "Steps: 2", "Width: 32", "Height: 48", "Guidance: 1.5",
                     "Precision: fp32", "MFLUX Image Information"] {
            XCTAssertTrue(info.stdout.contains(line), "\(line): \(info.stdout)")
        }
        XCTAssertEqual(try MFluxBinary.run(["info", dir + "/fox.metadata.json"]).stdout, info.stdout)
    }

    func testNoOverwriteKeepsImageAndSidecarTogether() throws {
        let dir = try temporaryDirectory()
        try Data("mine".utf8).write(to: URL(fileURLWithPath: dir + "/x.metadata.json"))
        let r = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt", "a cat", "--seed", "1", "--metadata",
                                     "--output", dir + "/x.png"] + Self.small)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(lines(r.stdout), [dir + "/x_1.png"], "x.png is free but its sidecar name is taken")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/x_1.metadata.json"))
        XCTAssertEqual(try String(contentsOfFile: dir + "/x.metadata.json", encoding: .utf8), "mine")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.png"))
    }

    func testPromptFromStandardInputAndFile() throws {
        let dir = try temporaryDirectory()
        let r = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt", "-", "--seed", "3", "--output", dir + "/a.png"] + Self.small,
                                    stdin: Data("  a blue bird\n".utf8))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try PNG.read(dir + "/a.png").text.first { $0.key == "prompt" }?.value, "a blue bird")
        try "a blue bird\n".write(toFile: dir + "/prompt.txt", atomically: true, encoding: .utf8)
        let f = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt-file", dir + "/prompt.txt", "--seed", "3",
                                     "--output", dir + "/b.png"] + Self.small)
        XCTAssertEqual(f.status, 0, f.stderr)
        XCTAssertEqual(try pixels(dir + "/a.png"), try pixels(dir + "/b.png"))
        let empty = try MFluxBinary.run(["generate", "--model", Self.model, "--prompt", "-", "--output", dir + "/c.png"] + Self.small,
                                        stdin: Data())
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.stderr.contains("no prompt on standard input"), empty.stderr)
    }

    func testBadValuesGiveOneLineAndWriteNothing() throws {
        let dir = try temporaryDirectory()
        try Data("{\"hello\": 1}".utf8).write(to: URL(fileURLWithPath: dir + "/foreign.json"))
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.txt"))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/out.png"))
        let base = ["generate", "--model", Self.model, "--prompt", "a cat", "--seed", "1", "--output", dir + "/out.png"] + Self.small
        func with(_ key: String, _ values: String...) -> [String] {
            var a = base
            if let i = a.firstIndex(of: key) { a.replaceSubrange((i + 1)...(i + 1), with: values) } else { a += [key] + values }
            return a
        }
        let cases: [(String, [String], String)] = [
            ("steps < 1", with("--steps", "0"), "--steps must be at least 1"),
            ("negative steps", with("--steps", "-3"), "--steps must be at least 1"),
            ("width not a multiple of 16", with("--width", "40"), "multiple of 16"),
            ("height not a multiple of 16", with("--height", "20"), "multiple of 16"),
            ("missing prompt file", base.filter { $0 != "--prompt" && $0 != "a cat" } + ["--prompt-file", dir + "/nope.txt"], "does not exist"),
            ("empty prompt file", base.filter { $0 != "--prompt" && $0 != "a cat" } + ["--prompt-file", dir + "/empty.txt"], "is empty"),
            ("prompt file is a folder", base.filter { $0 != "--prompt" && $0 != "a cat" } + ["--prompt-file", dir], "cannot be read"),
            ("prompt and prompt file", with("--prompt-file", dir + "/empty.txt"), "cannot be used together"),
            ("output folder missing", with("--output", dir + "/missing/x.png"), "does not exist"),
            ("metadata not ours", with("--config-from-metadata", dir + "/foreign.json"), "not an mflux metadata file"),
            ("metadata missing", with("--config-from-metadata", dir + "/none.json"), "does not exist"),
            ("metadata is a png without ours", with("--config-from-metadata", MFluxBinary.repositoryRoot + "/ReferenceExports/test_image.png"), "no mflux metadata"),
            ("unknown alias", with("--model", "flux-dev-9000"), "unknown model"),
            ("unknown repository", with("--model", "someone/some-model"), "does not exist"),
            ("auto-seeds 0", with("--auto-seeds", "0"), "--auto-seeds"),
            ("guidance below 0", with("--guidance", "-1"), "--guidance"),
            ("stepwise folder is a file", with("--stepwise-image-output-dir", dir + "/empty.txt"), "not a folder"),
            ("no model", ["generate", "--prompt", "a cat", "--output", dir + "/out.png"], "--model"),
            ("no prompt", ["generate", "--model", Self.model, "--output", dir + "/out.png"], "--prompt"),
        ]
        for (what, args, words) in cases {
            let r = try MFluxBinary.run(args)
            XCTAssertNotEqual(r.status, 0, what)
            XCTAssertEqual(r.stderrLines.count, 1, "\(what): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("mflux: error: ") && r.stderr.contains(words), "\(what): \(r.stderr)")
            XCTAssertTrue(r.stdout.isEmpty, what)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["empty.txt", "foreign.json", "out.png"], "nothing written")
        XCTAssertEqual(try String(contentsOfFile: dir + "/out.png", encoding: .utf8), "keep")
        // mflux info on files that are not ours.
        for (file, words) in [(dir + "/out.png", "not an mflux metadata file"), (dir + "/none.png", "does not exist"),
                              (MFluxBinary.repositoryRoot + "/ReferenceExports/test_image.png", "no mflux metadata")] {
            let r = try MFluxBinary.run(["info", file])
            XCTAssertEqual(r.status, 1, file)
            XCTAssertEqual(r.stderrLines.count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(words), r.stderr)
        }
    }

    func testModelsListsTheCache() throws {
        let dir = try temporaryDirectory()
        let none = try MFluxBinary.run(["models"], environment: ["HF_HOME": dir])
        XCTAssertEqual(none.status, 0, none.stderr)
        XCTAssertTrue(none.stdout.contains("z-image-turbo"), none.stdout)
        XCTAssertTrue(none.stdout.contains("Tongyi-MAI/Z-Image-Turbo"), none.stdout)
        XCTAssertTrue(none.stdout.contains("not downloaded"), none.stdout)
        XCTAssertTrue(none.stdout.contains("hf download Tongyi-MAI/Z-Image-Turbo"), none.stdout)
        XCTAssertTrue(none.stdout.contains(dir + "/hub"), none.stdout)
        let snap = dir + "/hub/models--Tongyi-MAI--Z-Image-Turbo/snapshots/0123abc"
        try FileManager.default.createDirectory(atPath: (snap as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: snap, withDestinationPath: Self.model)
        let found = try MFluxBinary.run(["models"], environment: ["HF_HUB_CACHE": dir + "/hub"])
        XCTAssertEqual(found.status, 0, found.stderr)
        let sections = found.stdout.components(separatedBy: "\n\n")
        let zimage = try XCTUnwrap(sections.first { $0.hasPrefix("z-image-turbo") }, found.stdout)
        XCTAssertTrue(zimage.contains("local:      " + snap), zimage)
        XCTAssertFalse(zimage.contains("not downloaded"), zimage)
        let klein = try XCTUnwrap(sections.first { $0.hasPrefix("flux2-klein-4b") }, found.stdout)
        XCTAssertTrue(klein.contains("not downloaded") && klein.contains("hf download black-forest-labs/FLUX.2-klein-4B"), klein)
    }

    func testShellCompletionScripts() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try MFluxBinary.run(["--generate-completion-script", shell])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("stepwise-image-output-dir"), shell)
            XCTAssertTrue(r.stdout.contains("z-image-turbo"), "\(shell): model aliases are completed")
        }
    }
}

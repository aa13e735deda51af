/// What a callback knows about the image being generated (one seed of one prompt).
public struct LoopInfo: Sendable, Equatable {
    /// The seed of the initial noise.
    public let seed: UInt64
    /// The prompt.
    public let prompt: String
    /// Image width and height in pixels.
    public let width: Int, height: Int
    /// The full schedule's sigmas (`steps + 1` values, the last 0).
    public let sigmas: [Float]
    /// The first schedule index the loop runs (0 for text-to-image; later for image-to-image).
    public let startIndex: Int
    /// Which image of the run this is (0-based) and how many the run makes.
    public let imageIndex: Int, imageCount: Int

    /// Describes one loop.
    public init(seed: UInt64, prompt: String, width: Int, height: Int, sigmas: [Float], startIndex: Int = 0,
                imageIndex: Int = 0, imageCount: Int = 1) {
        self.seed = seed
        self.prompt = prompt
        self.width = width
        self.height = height
        self.sigmas = sigmas
        self.startIndex = startIndex
        self.imageIndex = imageIndex
        self.imageCount = imageCount
    }

    /// Steps of the schedule (`sigmas.count - 1`).
    public var scheduleSteps: Int { max(0, sigmas.count - 1) }
    /// Steps the loop runs (`scheduleSteps - startIndex`).
    public var steps: Int { max(0, scheduleSteps - startIndex) }
}

/// One finished step of a loop.
public struct StepInfo: Sendable, Equatable {
    /// Index into the schedule (`startIndex ..< scheduleSteps`).
    public let index: Int
    /// 1-based number of this step among the steps the loop runs, and their count.
    public let number: Int, total: Int
    /// The sigma the step started from and the one it reached.
    public let sigma: Float, nextSigma: Float

    /// Describes step `index` of the loop `info`.
    public init(index: Int, info: LoopInfo) {
        self.index = index
        number = index - info.startIndex + 1
        total = info.steps
        sigma = info.sigmas[index]
        nextSigma = info.sigmas[index + 1]
    }
}

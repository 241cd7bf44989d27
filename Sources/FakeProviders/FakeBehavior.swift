/// What the fake does for a model, chosen by substrings of its name so tests pick failures without any setup.
struct FakeBehavior: Sendable, Equatable {
    enum Outcome: Sendable, Equatable {
        /// Close the connection without a response (after the first chunk when streaming).
        case drop
        case badRequest
        /// `error-401`: the provider refuses the key on this model (validation of the same key passes).
        case keyRejected
        /// `error-403`: the provider forbids the key this model.
        case keyForbidden
        case serverError
        case rateLimited
        /// The provider does not know the model (`missing`), as for a registry `modelId` with a typo.
        case modelNotFound
        case toolCall
        case echo
    }

    var outcome: Outcome
    /// Wait before answering (`slow` = 1.5 s, `slow-<ms>`, `hang` = 10 minutes: an upstream that never answers in a test's time).
    var delay: Duration?
    /// Wait between stream chunks (`stream-delay` = 50 ms) so first-chunk timing can be measured.
    var chunkDelay: Duration?
    /// `flaky-N`: the first N calls for this model name answer 500, later ones answer normally.
    var flakyFailures: Int?
    /// `exhausted-N`: answers normally with `x-ratelimit-remaining-requests: 0`, resetting in N seconds.
    var exhaustedResetSeconds: Int?

    /// Checks `drop`, `error-400`, `error-500` (or `down`), `rate-limit`, `slow`, `tool` in that order; a slow model then answers normally.
    init(model: String, hasTools: Bool) {
        self.chunkDelay = model.contains("stream-delay") ? .milliseconds(50) : nil
        self.delay = nil
        if let range = model.range(of: "flaky-") {
            self.flakyFailures = Int(model[range.upperBound...].prefix(while: \.isNumber))
        }
        if let range = model.range(of: "exhausted-") {
            self.exhaustedResetSeconds = Int(model[range.upperBound...].prefix(while: \.isNumber))
        }
        if model.contains("drop") {
            self.outcome = .drop
            return
        }
        if model.contains("error-401") {
            self.outcome = .keyRejected
            return
        }
        if model.contains("error-403") {
            self.outcome = .keyForbidden
            return
        }
        if model.contains("error-400") {
            self.outcome = .badRequest
            return
        }
        if model.contains("error-500") || model.contains("down") {
            self.outcome = .serverError
            return
        }
        if model.contains("rate-limit") {
            self.outcome = .rateLimited
            return
        }
        if model.contains("missing") {
            self.outcome = .modelNotFound
            return
        }
        if model.contains("hang") { self.delay = .seconds(600) }
        if let range = model.range(of: "slow") {
            self.delay = .milliseconds(1_500)
            let rest = model[range.upperBound...]
            if rest.first == "-" {
                let digits = rest.dropFirst().prefix(while: \.isNumber)
                if let milliseconds = Int(digits) { self.delay = .milliseconds(milliseconds) }
            }
        }
        self.outcome = hasTools && model.contains("tool") ? .toolCall : .echo
    }
}

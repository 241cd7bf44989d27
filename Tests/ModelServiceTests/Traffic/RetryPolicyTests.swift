import Testing
@testable import ModelService

/// What is retried, and how long each retry waits.
@Suite struct RetryPolicyTests {
    @Test func retryableFailuresAreRateLimitsServerErrorsTimeoutsAndConnectionFailures() {
        #expect(RetryPolicy.isRetryable(.upstreamRejected(status: 429, message: "", type: nil, code: nil, retryAfter: nil)))
        #expect(RetryPolicy.isRetryable(.upstreamFailed(status: 529, message: "overloaded")))
        #expect(RetryPolicy.isRetryable(.upstreamFailed(status: 503, message: "")))
        #expect(RetryPolicy.isRetryable(.timeout))
        #expect(RetryPolicy.isRetryable(.unreachable("refused")))
        #expect(!RetryPolicy.isRetryable(.upstreamRejected(status: 400, message: "", type: nil, code: nil, retryAfter: nil)))
        #expect(!RetryPolicy.isRetryable(.upstreamRejected(status: 401, message: "", type: nil, code: nil, retryAfter: nil)))
        #expect(!RetryPolicy.isRetryable(.invalidRequest("bad image")))
    }

    @Test func backoffGrowsWithJitterAndRetryAfterIsHonouredUpToTheCap() {
        var policy = RetryPolicy()
        policy.baseDelay = .milliseconds(100)
        policy.maxDelay = .milliseconds(300)
        policy.retryAfterCap = .seconds(2)
        for retry in 1...5 {
            let ceiling = min(Duration.milliseconds(300), .milliseconds(100 * (1 << (retry - 1))))
            for _ in 0..<50 {
                let wait = policy.delay(retry: retry, after: .timeout)
                #expect(wait >= .zero && wait <= ceiling)
            }
        }
        let limited = ProviderError.upstreamRejected(status: 429, message: "", type: nil, code: nil, retryAfter: "1")
        #expect(policy.delay(retry: 1, after: limited) == .seconds(1))
        let long = ProviderError.upstreamRejected(status: 429, message: "", type: nil, code: nil, retryAfter: "120")
        #expect(policy.delay(retry: 1, after: long) == .seconds(2))
    }
}

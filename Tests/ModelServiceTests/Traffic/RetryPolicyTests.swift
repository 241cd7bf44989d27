import Testing
@testable import ModelService
@testable import ModelServiceCore

/// What is retried, and how long each retry waits.
@Suite struct RetryPolicyTests {
    @Test func retryableFailuresAreRateLimitsServerErrorsTimeoutsAndConnectionFailures() {
        #expect(RetryPolicy.isRetryable(ServiceError(.upstreamRateLimited, "", upstreamStatus: 429)))
        #expect(RetryPolicy.isRetryable(ServiceError(.upstreamFailed, "overloaded", upstreamStatus: 529)))
        #expect(RetryPolicy.isRetryable(ServiceError(.upstreamFailed, "", upstreamStatus: 503)))
        #expect(RetryPolicy.isRetryable(ServiceError(.upstreamRejected, "", upstreamStatus: 408)))
        #expect(RetryPolicy.isRetryable(ServiceError(.upstreamTimeout, "")))
        #expect(RetryPolicy.isRetryable(ServiceError(.upstreamUnreachable, "refused")))
        #expect(!RetryPolicy.isRetryable(ServiceError(.upstreamRejected, "", upstreamStatus: 400)))
        #expect(!RetryPolicy.isRetryable(ServiceError(.providerKeyRejected, "", upstreamStatus: 401)))
        #expect(!RetryPolicy.isRetryable(ServiceError(.invalidRequest, "bad image")))
        // A rejected key or an unknown upstream model moves to the next candidate; the client's own mistake ends the call.
        #expect(AttemptLoop.disposition(of: ServiceError(.providerKeyRejected, "", upstreamStatus: 401)) == .fallOver)
        #expect(AttemptLoop.disposition(of: ServiceError(.upstreamModelNotFound, "", upstreamStatus: 404)) == .fallOver)
        #expect(AttemptLoop.disposition(of: ServiceError(.invalidRequest, "bad")) == .fail)
        #expect(AttemptLoop.disposition(of: ServiceError(.upstreamTimeout, "")) == .retry)
    }

    @Test func backoffGrowsWithJitterAndRetryAfterIsHonouredUpToTheCap() {
        var policy = RetryPolicy()
        policy.baseDelay = .milliseconds(100)
        policy.maxDelay = .milliseconds(300)
        policy.retryAfterCap = .seconds(2)
        for retry in 1...5 {
            let ceiling = min(Duration.milliseconds(300), .milliseconds(100 * (1 << (retry - 1))))
            for _ in 0..<50 {
                let wait = policy.delay(retry: retry, after: ServiceError(.upstreamTimeout, ""))
                #expect(wait >= .zero && wait <= ceiling)
            }
        }
        let limited = ServiceError(.upstreamRateLimited, "", upstreamStatus: 429, retryAfter: "1")
        #expect(policy.delay(retry: 1, after: limited) == .seconds(1))
        let long = ServiceError(.upstreamRateLimited, "", upstreamStatus: 429, retryAfter: "120")
        #expect(policy.delay(retry: 1, after: long) == .seconds(2))
    }
}

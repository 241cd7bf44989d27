import Foundation

extension ServiceError {
    /// The domain reading of an adapter's failure; `key` names the key when the provider refused it.
    package init(_ error: ProviderError, model: Model, key: ResolvedKey?) {
        switch error {
        case .upstreamRejected(let status, let message, _, let code, let retryAfter):
            switch status {
            case _ where error.rejectsKey:
                let name = key?.label ?? "(none)"
                self.init(
                    .providerKeyRejected,
                    "The \(model.provider.rawValue) provider rejected the API key \(name) used for model '\(model.name)': \(message)",
                    upstreamStatus: status, upstreamCode: code)
            case 404:
                self.init(
                    .upstreamModelNotFound,
                    "The \(model.provider.rawValue) provider does not know the upstream model '\(model.modelId)' that registry model '\(model.name)' points to: \(message)",
                    upstreamStatus: status, upstreamCode: code)
            case 429:
                // Passed on to the client as whole seconds (at most a day), whatever form the upstream sent.
                let wait = RetryPolicy.retryAfter(retryAfter, now: Date(), cap: .seconds(86_400)).map { (Saturating.milliseconds($0) + 999) / 1000 }
                self.init(.upstreamRateLimited, message, upstreamStatus: status, upstreamCode: code, retryAfter: wait.map(String.init))
            default:
                self.init(.upstreamRejected, message, upstreamStatus: status, upstreamCode: code)
            }
        case .upstreamFailed(let status, let message): self.init(.upstreamFailed, message, upstreamStatus: status)
        case .timeout: self.init(.upstreamTimeout, error.message)
        case .unreachable: self.init(.upstreamUnreachable, error.message)
        case .invalidResponse: self.init(.upstreamInvalidResponse, error.message)
        case .invalidRequest(let reason): self.init(.invalidRequest, reason)
        }
    }
}

extension ServiceError {
    /// Why no key could be used for a call, as its kind: none at all, none for the model's endpoint, a
    /// variable the service will not read, or keys the loaded master secrets cannot open.
    init(_ error: KeyResolutionError) {
        let kind: Kind =
            error.unboundEndpoint != nil
            ? .keyNotForEndpoint : error.refusedVariable != nil ? .refusedKeyVariable : error.undecryptable ? .keyUndecryptable : .noKey
        self.init(kind, error.description)
    }
}

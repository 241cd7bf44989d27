/// Calls that bill nothing and so leave no usage record (Anthropic's free `count_tokens`).
extension CallPipeline {
    /// The admitted call's upstream target, its key resolved as ``attempt(_:candidate:settlement:_:)`` does.
    package func unbilledTarget(for call: Call) throws(ServiceError) -> UpstreamTarget {
        let model = call.model
        let baseURL = endpoints.baseURL(for: model)
        let key: ResolvedKey
        do {
            key = try keys.resolve(userId: call.userId, provider: model.provider, model: model, baseURL: baseURL)
        } catch {
            let kind: ServiceError.Kind =
                error.unboundEndpoint != nil
                ? .keyNotForEndpoint
                : error.refusedVariable != nil
                    ? .refusedKeyVariable
                    : error.undecryptable ? .keyUndecryptable : .noKey
            throw ServiceError(kind, error.description)
        }
        return UpstreamTarget(
            provider: model.provider, upstreamModel: model.modelId, baseURL: baseURL, apiKey: key.secret, settings: model.providerSettings)
    }
}

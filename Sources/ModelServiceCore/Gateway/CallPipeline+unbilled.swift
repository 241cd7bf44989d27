import NIOCore

/// Calls that bill nothing and so leave no usage record (Anthropic's free `count_tokens`).
extension CallPipeline {
    /// Anthropic's `count_tokens` for a model of a provider with a Messages API: admitted without traffic
    /// control, sent with the key a call would use, never settled. Nil for another provider's model (the
    /// door estimates instead).
    package func countTokens(_ request: CallRequest, headers: AnthropicClientHeaders) async throws(ServiceError) -> ByteBuffer? {
        let call = try await admit(request, billed: false)
        let adapter = ProviderAdapters.adapter(for: call.model.provider)
        guard adapter.relaysAnthropicMessages(model: call.model.modelId, settings: call.model.providerSettings) else { return nil }
        let (target, key) = try target(for: call.model, userId: call.userId, teamId: call.teamId, requestId: call.requestId)
        do {
            var client = upstream
            client.callDeadline = call.deadline
            return try await adapter.messages(request.body, path: "/v1/messages/count_tokens", headers: headers, target: target, client: client)
        } catch let error as ProviderError {
            throw ServiceError(error, model: call.model, key: key)
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.upstreamUnreachable, "The count was cancelled.")
        }
    }
}

import Foundation
import ModelServiceCore
import NIOCore

/// The codec of `/v1/embeddings`: OpenAI's format both ways. OpenAI and Azure get the client's JSON
/// relayed (only `model` changed) and answer in kind; Gemini's and Ollama's vectors are written in
/// OpenAI's shape, as floats or, as the SDK asks by default, base64.
struct EmbeddingsCodec: ClientFormat {
    let request: EmbeddingRequest

    var capability: ProviderCapability { .embeddings }

    func upstreamCall(for candidate: Model) throws(ServiceError) -> UpstreamCall {
        guard let clientJSON = request.clientJSON else { throw ServiceError(.invalidRequest, "The request body is missing.") }
        return .embeddings(request, clientJSON: clientJSON)
    }

    func encode(_ answer: UpstreamAnswer, model: Model, call: Call) throws -> (body: ByteBuffer, usage: Usage?) {
        guard case .embeddings(let embeddings) = answer else { throw ProviderError.invalidResponse("not an embeddings answer") }
        switch embeddings {
        case .relayed(let json, let reported):
            return (ModelNamePatch.apply(json, model: model.name), reported.map { Usage(promptTokens: $0.promptTokens, completionTokens: 0) })
        case .translated(let vectors):
            // Gemini counts no tokens: the answer shows an estimate from the text sent, and the record says it is one.
            let counted = vectors.usage ?? Usage(promptTokens: TokenEstimate.tokens(bytes: call.body.readableBytes), completionTokens: 0)
            let body = try vectors.openAIAnswer(model: model.name, base64: request.encodingFormat == "base64", usage: counted)
            return (ByteBuffer(bytes: body), vectors.usage.map { Usage(promptTokens: $0.promptTokens, completionTokens: 0) })
        }
    }

    func streamEncoder(model: Model) -> (any StreamEncoder)? { nil }

    /// The bounds of OpenAI's embeddings API, checked at the door.
    static func validate(_ body: EmbeddingRequest) throws(ServiceError) {
        if body.input.count == 0 { throw .invalidRequest("input", "must not be empty") }
        if body.input.count > EmbeddingRequest.maxInputs { throw .invalidRequest("input", "at most \(EmbeddingRequest.maxInputs) inputs per call") }
        if case .texts(let texts) = body.input {
            if texts.contains(where: \.isEmpty) { throw .invalidRequest("input", "must not contain empty strings") }
            if texts.contains(where: { $0.count > EmbeddingRequest.maxInputCharacters }) {
                throw .invalidRequest("input", "each input must be at most \(EmbeddingRequest.maxInputCharacters) characters")
            }
        }
        if let format = body.encodingFormat, format != "float", format != "base64" {
            throw .invalidRequest("encoding_format", "must be float or base64")
        }
        if let dimensions = body.dimensions, !(1...65_536).contains(dimensions) { throw .invalidRequest("dimensions", "must be from 1 to 65536") }
    }
}

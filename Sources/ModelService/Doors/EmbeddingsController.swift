import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `POST /v1/embeddings` in OpenAI's format, over OpenAI, Azure, Gemini and Ollama models.
struct EmbeddingsController {
    let pipeline: CallPipeline

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post("embeddings", use: embeddings)
    }

    @Sendable func embeddings(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await request.collectJSONBody(context: context)
        let body = try JSONBody.decode(EmbeddingRequest.self, from: Data(bytes.readableBytesView))
        do {
            try Self.validate(body)
            let call = try await pipeline.admit(
                door: .embeddings, modelName: body.model, body: bytes, streaming: false, principal: principal,
                namedUser: request.headers[.xUserId], bodyUser: body.user, requestId: context.requestId,
                timeout: Call.clientTimeout(request.headers[.xStainlessTimeout]))
            guard EmbeddingsUpstream.supports(call.model.provider) else {
                throw ServiceError(.unsupportedProvider, "/v1/embeddings does not support the \(call.model.provider.rawValue) provider (model '\(call.model.name)').")
            }
            let settlement = pipeline.settlement(for: call)
            let upstream = pipeline.upstream
            let (model, answer) = try await pipeline.run(call, settlement: settlement) { candidate, target in
                (candidate, try await EmbeddingsUpstream.embed(body, clientJSON: bytes, target: target, client: upstream))
            }
            let out: ByteBuffer
            let usage: Usage?
            switch answer {
            case .relayed(let json, let reported):
                out = ModelNamePatch.apply(json, model: model.name)
                usage = reported
            case .translated(let vectors):
                // Gemini counts no tokens: estimate from the text sent, and record that it is an estimate.
                let counted = vectors.usage ?? Usage(promptTokens: CallSettlement.estimateTokens(bytes: bytes.readableBytes), completionTokens: 0)
                out = ByteBuffer(bytes: try vectors.openAIAnswer(model: model.name, base64: body.encodingFormat == "base64", usage: counted))
                usage = vectors.usage
            }
            settlement.settle(.success(usage.map { Usage(promptTokens: $0.promptTokens, completionTokens: 0) }))
            return Response(status: .ok, headers: [.contentType: "application/json", .xModelServiceModel: model.name], body: .init(byteBuffer: out))
        } catch let error as ServiceError {
            throw error
        }
    }

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

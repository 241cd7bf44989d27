import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite struct ChatTypesTests {
    @Test func decodesRequestAndNormalisesStop() throws {
        let request = try decodeRequest(sampleRequestJSON)
        #expect(request.model == "gw-model")
        #expect(request.messages.count == 3)
        #expect(request.stop == ["END"])
        #expect(request.topP == 0.9)
        #expect(request.maxTokens == 100)
        #expect(request.isStreaming)
        #expect(request.wantsStreamUsage)
        let array = try decodeRequest(#"{"model":"m","messages":[],"stop":["a","b"]}"#)
        #expect(array.stop == ["a", "b"])
        let null = try decodeRequest(#"{"model":"m","messages":[],"stop":null}"#)
        #expect(null.stop == nil)
    }

    @Test func decodesContentParts() throws {
        let request = try decodeRequest(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}}]}]}"#
        )
        #expect(request.messages[0].content == .parts([.text("What is this?"), .imageURL(url: "https://x/y.png", detail: "low")]))
        #expect(request.messages[0].content?.text == "What is this?")
    }

    @Test func decodingErrorsNameTheField() throws {
        let badRole = try #require(throws: DecodingError.self) {
            try decodeRequest(#"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#)
        }
        guard case .dataCorrupted(let roleContext) = badRole else { Issue.record("unexpected \(badRole)"); return }
        #expect(roleContext.codingPath.map(\.stringValue).last == "role")

        let badTemperature = try #require(throws: DecodingError.self) {
            try decodeRequest(#"{"model":"m","messages":[],"temperature":"hot"}"#)
        }
        guard case .typeMismatch(_, let context) = badTemperature else { Issue.record("unexpected \(badTemperature)"); return }
        #expect(context.codingPath.map(\.stringValue) == ["temperature"])

        let badPart = try #require(throws: DecodingError.self) {
            try decodeRequest(#"{"model":"m","messages":[{"role":"user","content":[{"type":"audio"}]}]}"#)
        }
        #expect("\(badPart)".contains("unsupported content part type 'audio'"))
    }

    @Test func encodingOmitsNilFieldsButKeepsOpenAINulls() throws {
        let request = ChatCompletionRequest(model: "m", messages: [.text(.user, "hi")])
        let encoded = String(decoding: try ProviderJSON.encode(request), as: UTF8.self)
        #expect(!encoded.contains("null"))
        #expect(!encoded.contains("temperature"))

        let toolMessage = ChatMessage(role: .assistant, toolCalls: [ChatToolCall(id: "c1", name: "f", arguments: "{}")])
        #expect(try json(toolMessage)["content"] == .null)

        let chunk = ChunkBuilder(id: "x", created: 1, model: "m").text("hey")
        let chunkJSON = try json(chunk)
        #expect(chunkJSON["choices"]?.arrayValue?.first?["finish_reason"] == .null)
        #expect(chunkJSON["usage"] == nil)
        #expect(chunkJSON["object"] == .string("chat.completion.chunk"))
    }

    @Test func roundTripsTheToolConversation() throws {
        let request = try decodeRequest(toolConversationJSON)
        let again = try JSONDecoder().decode(ChatCompletionRequest.self, from: ProviderJSON.encode(request))
        #expect(again == request)
        #expect(request.messages[1].toolCalls?.count == 2)
        #expect(ToolChoice(request.toolChoice) == .function("get_weather"))
    }

    @Test func sseFrameWritesDataLines() throws {
        let chunk = ChunkBuilder(id: "x", created: 1, model: "m").text("a/b")
        let frame = String(buffer: try SSEWriter.sseFrame(for: chunk))
        #expect(frame.hasPrefix("data: {"))
        #expect(frame.hasSuffix("}\n\n"))
        #expect(frame.contains("a/b"))
        #expect(SSEWriter.doneFrame == "data: [DONE]\n\n")
    }
}

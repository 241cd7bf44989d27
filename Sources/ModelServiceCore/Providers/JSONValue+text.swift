import Foundation

extension JSONValue {
    /// Parses a JSON document held in a string, as tool-call `arguments` are.
    package init(jsonText: String) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: Data(jsonText.utf8))
    }

    /// The value as compact JSON text, for tool-call `arguments`.
    package var jsonText: String {
        guard let data = try? ProviderJSON.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Tool-call arguments as the object providers want; empty text means no arguments.
    package static func toolArguments(_ text: String, tool: String) throws -> JSONValue {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .object([:]) }
        guard let value = try? JSONValue(jsonText: text), case .object = value else {
            throw ProviderError.invalidRequest("tool call '\(tool)': arguments must be a JSON object")
        }
        return value
    }

    /// Builds an object, leaving out nil entries, so translators write optional fields in one line.
    package static func compact(_ pairs: KeyValuePairs<String, JSONValue?>) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for (key, value) in pairs {
            if let value { object[key] = value }
        }
        return .object(object)
    }

    package static func from(_ value: Double?) -> JSONValue? { value.map(JSONValue.number) }
    package static func from(_ value: Int?) -> JSONValue? { value.map { .number(Double($0)) } }
    package static func from(_ value: String?) -> JSONValue? { value.map(JSONValue.string) }
    package static func from(_ values: [String]?) -> JSONValue? {
        guard let values, !values.isEmpty else { return nil }
        return .array(values.map(JSONValue.string))
    }
}

/// A parsed `data:<media type>;base64,<data>` URL, the way clients inline images.
package struct DataURL: Equatable {
    package var mediaType: String
    package var base64: String

    /// Nil for anything that is not a base64 data URL (e.g. an http URL).
    package init?(_ url: String) {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { return nil }
        let type = header.dropLast(";base64".count)
        mediaType = type.isEmpty ? "application/octet-stream" : String(type)
        base64 = String(url[url.index(after: comma)...])
    }

    /// A best guess of an http image's type from its extension, for providers that require one.
    package static func guessMediaType(forURL url: String) -> String {
        let path = url.split(separator: "?").first.map(String.init)?.lowercased() ?? ""
        if path.hasSuffix(".png") { return "image/png" }
        if path.hasSuffix(".gif") { return "image/gif" }
        if path.hasSuffix(".webp") { return "image/webp" }
        if path.hasSuffix(".pdf") { return "application/pdf" }
        return "image/jpeg"
    }
}

/// Maps OpenAI `response_format` to "json" when the client wants JSON output.
package enum ResponseFormat {
    case text, jsonObject
    case jsonSchema(JSONValue?)

    package init(_ value: JSONValue?) {
        switch value?["type"]?.stringValue {
        case "json_object": self = .jsonObject
        case "json_schema": self = .jsonSchema(value?["json_schema"]?["schema"])
        default: self = .text
        }
    }
}

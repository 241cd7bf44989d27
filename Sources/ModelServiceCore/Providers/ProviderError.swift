import Foundation
import NIOCore

/// Why an upstream call failed, as an adapter reports it; ``ServiceError/init(_:model:key:)`` gives it its kind.
///
/// Messages come from the upstream with the API key scrubbed out; request headers never appear.
public enum ProviderError: Error, Sendable, CustomStringConvertible {
    /// Upstream 4xx: the status is passed through; 429 keeps `Retry-After`.
    case upstreamRejected(status: Int, message: String, type: String?, code: String?, retryAfter: String?)
    /// Upstream 5xx (answered as 502).
    case upstreamFailed(status: Int, message: String)
    /// No answer within the request timeout (504).
    case timeout
    /// Connection refused, reset or closed early (502).
    case unreachable(String)
    /// The upstream answered something this adapter cannot read (502).
    case invalidResponse(String)
    /// The client's request cannot be expressed in the provider's format, e.g. a malformed data URL (400).
    case invalidRequest(String)

    /// True when the provider refused the key itself: a 401 or 403, or Gemini's 400 `API_KEY_INVALID`
    /// (Gemini answers an unknown key with a 400, not a 401).
    public var rejectsKey: Bool {
        guard case .upstreamRejected(let status, _, _, let code, _) = self else { return false }
        return status == 401 || status == 403 || (status == 400 && code == "API_KEY_INVALID")
    }

    /// A message safe to show a client: already scrubbed of the key.
    public var message: String {
        switch self {
        case .upstreamRejected(_, let message, _, _, _): message
        case .upstreamFailed(_, let message): message
        case .timeout: "the upstream provider did not answer in time"
        case .unreachable(let reason): "the upstream provider is unreachable: \(reason)"
        case .invalidResponse(let reason): "the upstream provider sent an invalid response: \(reason)"
        case .invalidRequest(let reason): reason
        }
    }

    public var description: String {
        switch self {
        case .upstreamRejected(let status, let message, _, _, _): "upstream rejected the request (\(status)): \(message)"
        case .upstreamFailed(let status, let message): "upstream failed (\(status)): \(message)"
        default: message
        }
    }
}

extension ProviderError {
    /// Builds the error for a non-2xx upstream answer from its status, body and headers.
    package static func fromUpstream(status: Int, body: ByteBuffer?, retryAfter: String?, apiKey: Secret?) -> ProviderError {
        let extracted = UpstreamErrorBody(body)
        let message = scrub(extracted.message ?? "upstream answered HTTP \(status)", apiKey: apiKey)
        switch status {
        case 400..<500:
            return .upstreamRejected(
                status: status,
                message: message,
                type: extracted.type.map { scrub($0, apiKey: apiKey) },
                code: extracted.code.map { scrub($0, apiKey: apiKey) },
                retryAfter: retryAfter
            )
        case 500...:
            return .upstreamFailed(status: status, message: message)
        default:
            return .invalidResponse("unexpected HTTP status \(status)")
        }
    }

    /// An error reported inside a stream (Anthropic `error` event, Ollama `{error}` line), after a 200.
    package static func fromStreamError(type: String?, message: String?, apiKey: Secret?) -> ProviderError {
        let text = scrub(message ?? "upstream reported an error mid-stream", apiKey: apiKey)
        switch type {
        case "rate_limit_error": return .upstreamRejected(status: 429, message: text, type: type, code: nil, retryAfter: nil)
        case "invalid_request_error": return .upstreamRejected(status: 400, message: text, type: type, code: nil, retryAfter: nil)
        default: return .upstreamFailed(status: 502, message: text)
        }
    }

    /// Replaces every occurrence of the key's plaintext (each secret part of a Bedrock key pair too), and caps the
    /// length so an upstream page cannot flood logs.
    package static func scrub(_ text: String, apiKey: Secret?) -> String {
        var result = text
        for part in apiKey.map(BedrockCredential.sensitiveParts) ?? [] where part.count >= 4 {
            result = result.replacingOccurrences(of: part, with: "<redacted>")
        }
        if result.count > 2_000 {
            result = String(result.prefix(2_000)) + "…"
        }
        return result
    }
}

/// The message, type and code of an upstream error body in any of the supported formats.
package struct UpstreamErrorBody {
    package var message: String?
    package var type: String?
    package var code: String?

    /// Reads OpenAI `{error:{message,type,code}}`, Anthropic `{type:"error",error:{type,message}}`,
    /// Gemini `{error:{code,message,status}}`, Ollama `{error:"..."}`, AWS `{message}`, else the raw text.
    package init(_ body: ByteBuffer?) {
        guard let body, body.readableBytes > 0 else { return }
        let data = Data(body.readableBytesView)
        guard var json = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            let text = String(decoding: data.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            message = text.isEmpty ? nil : text
            return
        }
        if case .array(let items) = json, let first = items.first {
            json = first  // Gemini sometimes wraps the error object in an array.
        }
        switch json["error"] {
        case .string(let text):
            message = text
        case .object(let error):
            message = error["message"]?.stringValue
            type = error["type"]?.stringValue ?? error["status"]?.stringValue
            // Gemini's machine-readable reason (`API_KEY_INVALID`) is in `details[].reason`; its `code` is the HTTP status.
            code = error["details"]?.arrayValue?.lazy.compactMap { $0["reason"]?.stringValue }.first ?? Self.string(error["code"])
        default:
            // AWS answers `{"message": …}`, and `{"Message": …}` for some exceptions.
            message = json["message"]?.stringValue ?? json["Message"]?.stringValue ?? json["detail"]?.stringValue
        }
    }

    private static func string(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text): text
        case .number: value?.intValue.map(String.init)
        default: nil
        }
    }
}

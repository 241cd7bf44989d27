import Foundation
@testable import FakeProviders

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real HTTP exchange over loopback, as the gateway's client would make it.
struct FakeHTTPResult: Sendable {
    let status: Int
    let headers: [String: String]
    let body: Data

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    /// The JSON objects of the `data:` lines of an SSE body, `[DONE]` left out.
    var sseData: [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("data: "), line != "data: [DONE]" else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any]
        }
    }

    /// The `event:` names of an SSE body, in order.
    var sseEvents: [String] {
        text.split(separator: "\n").compactMap { $0.hasPrefix("event: ") ? String($0.dropFirst(7)) : nil }
    }

    /// The objects of a newline-delimited JSON body.
    var ndjson: [[String: Any]] {
        text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }
}

enum FakeHTTP {
    static let session = URLSession(configuration: .ephemeral)

    static func get(_ url: String, headers: [String: String] = [:]) async throws -> FakeHTTPResult {
        try await send(url, method: "GET", headers: headers)
    }

    static func send(
        _ url: String,
        method: String = "POST",
        headers: [String: String] = [:],
        json: [String: Any]? = nil,
        body: Data? = nil
    ) async throws -> FakeHTTPResult {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
        }
        // Bytes sent exactly as given (a signed body must not be encoded again).
        if let body { request.httpBody = body }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)"] = "\(value)" }
        return FakeHTTPResult(status: http.statusCode, headers: fields, body: data)
    }

    /// Runs `body` against a freshly started server and always stops it.
    static func withServer<T>(record: Bool = true, _ body: (RunningFakeProviders) async throws -> T) async throws -> T {
        let server = try await FakeProviderServer.start(record: record)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }
}

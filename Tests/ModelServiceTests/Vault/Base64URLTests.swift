import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite("Base64URL")
struct Base64URLTests {
    @Test("matches Foundation's base64 with the URL alphabet and no padding, for lengths 0–70")
    func matchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let encoded = Base64URL.encode(bytes)
            #expect(encoded == expected)
            #expect(Base64URL.decode(Substring(encoded)) == bytes)
        }
    }

    @Test("rejects padding, foreign characters, impossible lengths and non-zero trailing bits", arguments: ["AA==", "A+", "A/", "A", "AAAAA", "AB", "AAB", "A A", "é"])
    func rejects(text: String) {
        #expect(Base64URL.decode(Substring(text)) == nil)
    }
}

import Foundation
import Testing

@testable import FakeProviders

@Suite("FakeJSONWriter")
struct FakeJSONWriterTests {
    @Test("writes JSON that parses back to the same values, escapes included")
    func roundTrip() throws {
        let object: [String: Any] = [
            "text": "quote \" backslash \\ newline \n tab \t bell \u{07} é 🙂 </script>",
            "int": 42, "bool": true, "null": NSNull(), "empty": [Any](),
            "nested": [["a": 1], ["b": [String: Any]()]], "strings": ["x", "y"], "piece": "abc".dropFirst(),
        ]
        let buffer = FakeJSON.buffer(object)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
        #expect(parsed["text"] as? String == object["text"] as? String)
        #expect(parsed["int"] as? Int == 42)
        #expect(parsed["bool"] as? Bool == true)
        #expect(parsed["null"] is NSNull)
        #expect((parsed["empty"] as? [Any])?.isEmpty == true)
        #expect(((parsed["nested"] as? [[String: Any]])?.first?["a"]) as? Int == 1)
        #expect(parsed["strings"] as? [String] == ["x", "y"])
        #expect(parsed["piece"] as? String == "bc")
    }
}

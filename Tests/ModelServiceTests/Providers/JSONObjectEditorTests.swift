import Foundation
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The byte-level editor keeps every member it does not touch exactly as sent, in order.
@Suite struct JSONObjectEditorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var input: String
        var edit: @Sendable (inout JSONObjectEditor) -> Void
        var expected: String
        var testDescription: String { input }
    }

    static let cases: [Case] = [
        Case(input: #"{"model":"a","x":1}"#, edit: { $0.set("model", "b") }, expected: #"{"model":"b","x":1}"#),
        Case(input: #" { "b" : [1, {"}":"]"}] , "model" : "m" } "#, edit: { $0.set("model", "up") }, expected: #"{"b" : [1, {"}":"]"}],"model" : "up"}"#),
        Case(input: #"{"max_tokens":5,"z":null}"#, edit: { $0.remove("max_tokens"); $0.set("max_completion_tokens", 5) },
             expected: #"{"z":null,"max_completion_tokens":5}"#),
        Case(input: #"{"s":"a\"b","n":-1.5e3,"t":true}"#, edit: { $0.set("temperature", 0.5) }, expected: #"{"s":"a\"b","n":-1.5e3,"t":true,"temperature":0.5}"#),
        Case(input: #"{}"#, edit: { $0.set("model", "m") }, expected: #"{"model":"m"}"#),
        Case(input: #"{"m\u006fdel":"escaped key"}"#, edit: { $0.set("model", "m") }, expected: #"{"m\u006fdel":"m"}"#),
    ]

    @Test(arguments: cases)
    func editsOnlyWhatItIsTold(_ example: Case) throws {
        var editor = try #require(JSONObjectEditor(ByteBuffer(string: example.input)))
        example.edit(&editor)
        #expect(String(buffer: editor.result()) == example.expected)
    }

    @Test(arguments: [#"[1,2]"#, #"{"a":1"#, #"{"a" 1}"#, #"{"a":1,}"#, "", #"{"a":1} x"#])
    func refusesWhatIsNotOneObject(_ input: String) {
        #expect(JSONObjectEditor(ByteBuffer(string: input)) == nil)
    }
}

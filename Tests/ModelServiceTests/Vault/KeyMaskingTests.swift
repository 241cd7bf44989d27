import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite("KeyMasking, SecretComparison, TokenHashing")
struct KeyMaskingTests {
    @Test("masking by length", arguments: [
        ("", "********"),
        ("abcd", "********"),
        ("abcdefgh", "********"),
        ("abcdefghi", "********fghi"),
        ("abcdefghijkl", "ab********ijkl"),
        ("sk-ant-0123456789ab", "sk-an********89ab"),
        ("sk-proj-0123456789abcdef", "sk-proj********cdef"),
    ])
    func masking(key: String, expected: String) {
        #expect(KeyMasking.maskedPrefix(Secret(key)) == expected)
    }

    @Test("masking of 20- and 51-character keys, and half hidden at every length")
    func maskingLengths() {
        let twenty = "sk-abcdefghijklmnopq"
        #expect(twenty.count == 20)
        #expect(KeyMasking.maskedPrefix(Secret(twenty)) == "sk-abc********nopq")
        let fiftyOne = "sk-" + String(repeating: "x", count: 44) + "WXYZ"
        #expect(fiftyOne.count == 51)
        #expect(KeyMasking.maskedPrefix(Secret(fiftyOne)) == "sk-xxxx********WXYZ")
        for length in 0...200 {
            let key = String((0..<length).map { _ in Character("a") })
            let masked = KeyMasking.maskedPrefix(Secret(key))
            let shown = masked.count - KeyMasking.mask.count
            #expect(shown * 2 <= length, "length \(length) shows \(shown)")
            #expect(masked.contains(KeyMasking.mask))
        }
    }

    @Test("constant-time comparison is correct")
    func comparison() {
        #expect(SecretComparison.equal("internal-secret-value", "internal-secret-value"))
        #expect(!SecretComparison.equal("internal-secret-value", "internal-secret-valuE"))
        #expect(!SecretComparison.equal("internal-secret-value", "internal-secret-valu"))
        #expect(!SecretComparison.equal("", "x"))
        #expect(SecretComparison.equal("", ""))
        #expect(SecretComparison.equal([UInt8]([1, 2, 3]), [UInt8]([1, 2, 3])))
        #expect(!SecretComparison.equal([UInt8]([1, 2, 3]), [UInt8]([1, 2, 4])))
        #expect(SecretComparison.equal(Secret("héllo"), Secret("héllo")))
    }

    @Test("token hashing is lowercase SHA-256 hex")
    func tokenHashing() {
        #expect(TokenHashing.sha256Hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(TokenHashing.sha256Hex(Secret("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

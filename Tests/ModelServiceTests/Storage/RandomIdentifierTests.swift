import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Ids from the random pool: version-4 UUID text, never repeated, across pool refills and threads.
@Suite struct RandomIdentifierTests {
    static func isVersion4(_ id: String) -> Bool {
        let pattern = #"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"#
        return id.range(of: pattern, options: .regularExpression) != nil
    }

    @Test func idsAreVersion4UUIDsAndNeverRepeat() {
        // 2,000 ids take the 4 KiB pool through several refills.
        let ids = (0..<2_000).map { _ in RandomIdentifier.uuid() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(50) {
            #expect(Self.isVersion4(id), "\(id)")
            #expect(UUID(uuidString: id)?.uuidString.lowercased() == id)
        }
        let hex = RandomIdentifier.hex()
        #expect(hex.count == 32 && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }

    @Test func timeOrderedIdsCarryTheMillisecondAndSortByIt() throws {
        let millis: Int64 = 1_795_000_000_123
        let id = RandomIdentifier.timeOrderedUUID(nowMillis: millis)
        let pattern = #"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"#
        #expect(id.range(of: pattern, options: .regularExpression) != nil, "\(id)")
        let hex = id.replacingOccurrences(of: "-", with: "")
        #expect(Int64(hex.prefix(12), radix: 16) == millis)
        // Later milliseconds sort after earlier ones as text, so new rows append to an index.
        let later = (1...50).map { RandomIdentifier.timeOrderedUUID(nowMillis: millis + Int64($0)) }
        #expect(later == later.sorted())
        #expect(later.allSatisfy { $0 > id })
        let sameMillisecond = (0..<500).map { _ in RandomIdentifier.timeOrderedUUID(nowMillis: millis) }
        #expect(Set(sameMillisecond).count == 500)
    }

    @Test func concurrentCallersGetDistinctIds() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<500).map { _ in RandomIdentifier.uuid() } }
            }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(ids.count == 4_000)
        #expect(Set(ids).count == 4_000)
    }
}

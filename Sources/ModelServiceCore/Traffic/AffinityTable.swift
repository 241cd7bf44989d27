/// Conversation → deployment, bounded in memory and in time: two generations of at most `capacity` entries
/// each (when the young one fills, it becomes the old one and the old one is dropped), and an entry older
/// than `ttlMillis` is not followed. Each answer writes its conversation to the young generation again.
struct AffinityTable {
    struct Entry {
        var deploymentId: String
        var at: Int64
    }

    var capacity = 50_000
    var ttlMillis: Int64 = 3_600_000
    private var young: [Int: Entry] = [:]
    private var old: [Int: Entry] = [:]

    func deployment(for conversation: Int, at time: Int64) -> String? {
        guard let entry = young[conversation] ?? old[conversation], time - entry.at < ttlMillis else { return nil }
        return entry.deploymentId
    }

    mutating func set(_ conversation: Int, _ deploymentId: String, at time: Int64) {
        if young[conversation] == nil, young.count >= capacity {
            old = young
            young = [:]
        }
        young[conversation] = Entry(deploymentId: deploymentId, at: time)
    }

    var count: Int { young.count + old.count }
}

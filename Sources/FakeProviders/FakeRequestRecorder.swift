import Foundation

/// What the fake server received, in arrival order, so tests can assert on the exact upstream request the gateway sent.
public actor FakeRequestRecorder {
    /// How many requests are kept; older ones are forgotten so long benchmarks stay flat in memory.
    public let limit: Int
    private var ring: [RecordedRequest] = []
    private var next = 0
    /// Every request seen since the last reset, including those no longer kept.
    public private(set) var totalReceived = 0

    public init(limit: Int = 1_000) {
        self.limit = max(1, limit)
        self.ring.reserveCapacity(self.limit)
    }

    /// The kept requests, oldest first.
    public var requests: [RecordedRequest] {
        guard ring.count == limit else { return ring }
        return Array(ring[next...] + ring[..<next])
    }

    /// The most recent request to `provider`, if any was kept.
    public func last(provider: FakeProvider) -> RecordedRequest? {
        last(provider: provider.rawValue)
    }

    /// The most recent request to the provider named like its URL prefix (`openai`, `anthropic`, ...).
    public func last(provider: String) -> RecordedRequest? {
        requests.last { $0.provider == provider }
    }

    /// The most recent request of any provider.
    public var last: RecordedRequest? { requests.last }

    public func reset() {
        ring.removeAll(keepingCapacity: true)
        next = 0
        totalReceived = 0
    }

    func record(_ request: RecordedRequest) {
        totalReceived += 1
        if ring.count < limit {
            ring.append(request)
        } else {
            ring[next] = request
            next = (next + 1) % limit
        }
    }
}

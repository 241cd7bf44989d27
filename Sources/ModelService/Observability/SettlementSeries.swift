import Prometheus
import Synchronization

/// The Prometheus series one settlement updates, made once per label set and then reused.
///
/// `makeCounter` and `makeDurationHistogram` build the metric's name and validate every label on each
/// call; five of those per settled call cost more instructions than the call's own bookkeeping
/// (callgrind). Label sets are bounded (registry models × providers × doors × status classes × error
/// codes); past `capacity` the cache starts over, which only costs the lookups again.
final class SettlementSeries: Sendable {
    struct Key: Hashable, Sendable {
        var model: String
        var provider: ProviderKind
        var door: String
        var statusClass: String
        var errorKind: String
    }

    /// One label set's series.
    struct Series: Sendable {
        var calls: Counter
        var duration: DurationHistogram
        var inputTokens: ValueHistogram
        var outputTokens: ValueHistogram
        var cost: Counter
    }

    struct FirstTokenKey: Hashable, Sendable {
        var model: String
        var provider: ProviderKind
        var door: String
    }

    private let settled = Mutex<[Key: Series]>([:])
    private let firstTokens = Mutex<[FirstTokenKey: DurationHistogram]>([:])
    private let capacity = 10_000

    func series(_ key: Key, make: () -> Series) -> Series {
        if let found = settled.withLock({ $0[key] }) { return found }
        let made = make()  // the registry returns the same series for the same labels, so a race is harmless
        settled.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[key] = made
        }
        return made
    }

    func firstToken(_ key: FirstTokenKey, make: () -> DurationHistogram) -> DurationHistogram {
        if let found = firstTokens.withLock({ $0[key] }) { return found }
        let made = make()
        firstTokens.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[key] = made
        }
        return made
    }
}

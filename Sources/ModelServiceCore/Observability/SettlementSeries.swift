import Prometheus
import Synchronization

/// The Prometheus series one settlement updates, made once per label set and then reused.
///
/// `makeCounter` and `makeDurationHistogram` build the metric's name and validate every label on each
/// call; five of those per settled call cost more instructions than the call's own bookkeeping
/// (callgrind). Label sets are bounded (registry models × providers × doors × status classes × error
/// codes); past `capacity` the cache starts over, which only costs the lookups again.
package final class SettlementSeries: Sendable {
    package struct Key: Hashable, Sendable {
        package var model: String
        package var provider: ProviderKind
        package var door: String
        package var statusClass: String
        package var errorKind: String
    }

    /// One label set's series.
    package struct Series: Sendable {
        package var calls: Counter
        package var duration: DurationHistogram
        package var inputTokens: ValueHistogram
        package var outputTokens: ValueHistogram
        package var cost: Counter
    }

    package struct FirstTokenKey: Hashable, Sendable {
        package var model: String
        package var provider: ProviderKind
        package var door: String
    }

    /// One deployment's series: attempts by outcome and time to first byte.
    package struct DeploymentSeries: Sendable {
        package var answered: Counter
        package var failed: Counter
        package var firstByte: DurationHistogram
    }

    private let deployments = Mutex<[String: DeploymentSeries]>([:])
    private let settled = Mutex<[Key: Series]>([:])
    private let firstTokens = Mutex<[FirstTokenKey: DurationHistogram]>([:])
    private let capacity = 10_000

    package func series(_ key: Key, make: () -> Series) -> Series {
        Self.cached(key, in: settled, capacity: capacity, make: make)
    }

    package func firstToken(_ key: FirstTokenKey, make: () -> DurationHistogram) -> DurationHistogram {
        Self.cached(key, in: firstTokens, capacity: capacity, make: make)
    }

    package func deployment(_ id: String, make: () -> DeploymentSeries) -> DeploymentSeries {
        Self.cached(id, in: deployments, capacity: capacity, make: make)
    }

    /// The registry returns the same series for the same labels, so two callers making one at once is harmless.
    private static func cached<K: Hashable & Sendable, V: Sendable>(_ key: K, in cache: borrowing Mutex<[K: V]>, capacity: Int, make: () -> V) -> V {
        if let found = cache.withLock({ $0[key] }) { return found }
        let made = make()
        cache.withLock { entries in
            if entries.count >= capacity { entries.removeAll() }
            entries[key] = made
        }
        return made
    }
}

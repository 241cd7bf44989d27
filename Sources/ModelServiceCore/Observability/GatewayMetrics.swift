import Foundation
import Prometheus

/// The one recorder of gateway metrics, named after the OpenTelemetry GenAI conventions where one exists.
///
/// Each application owns its registry (tests build many applications in one process, so a global one
/// would mix their counts). Every label is a bounded set: registry model names, provider kinds, doors,
/// status classes and error codes; never a user id, token, key or prompt.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let series = SettlementSeries()

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// What one finished call reports at settlement (success, upstream error, client gone).
    public struct Settlement: Sendable {
        public var model: String
        public var provider: ProviderKind
        /// The front door: `chat.completions`, `embeddings`, `responses`, `messages`.
        public var door: String
        public var status: Int
        /// A `GatewayError` code when the call failed; a bounded set.
        public var errorKind: String?
        public var inputTokens: Int
        public var outputTokens: Int
        public var cost: Double?
        public var duration: Duration
        public var streamed: Bool

        public init(
            model: String, provider: ProviderKind, door: String, status: Int, errorKind: String?, inputTokens: Int, outputTokens: Int,
            cost: Double?, duration: Duration, streamed: Bool
        ) {
            self.model = model
            self.provider = provider
            self.door = door
            self.status = status
            self.errorKind = errorKind
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cost = cost
            self.duration = duration
            self.streamed = streamed
        }
    }

    /// Called exactly once per call, where the call settles.
    public func record(settlement s: Settlement) {
        let key = SettlementSeries.Key(
            model: s.model, provider: s.provider, door: s.door, statusClass: "\(s.status / 100)xx", errorKind: s.errorKind ?? "")
        let series = self.series.series(key) { makeSeries(key) }
        series.calls.increment()
        series.duration.record(s.duration)
        if s.inputTokens > 0 { series.inputTokens.record(Double(s.inputTokens)) }
        if s.outputTokens > 0 { series.outputTokens.record(Double(s.outputTokens)) }
        if let cost = s.cost, cost > 0 { series.cost.increment(by: cost) }
        if let kind = s.errorKind, s.status != 499 {
            recordUpstreamError(provider: s.provider, kind: kind)
        }
    }

    private func makeSeries(_ key: SettlementSeries.Key) -> SettlementSeries.Series {
        let operation = Self.operationName(door: key.door)
        let provider = key.provider.rawValue
        func tokens(_ type: String) -> ValueHistogram {
            registry.makeValueHistogram(
                descriptor: Self.tokenUsage,
                labels: [
                    ("gen_ai_operation_name", operation), ("gen_ai_request_model", key.model), ("gen_ai_provider_name", provider),
                    ("gen_ai_token_type", type),
                ],
                buckets: Self.tokenBuckets)
        }
        return SettlementSeries.Series(
            calls: registry.makeCounter(
                descriptor: Self.calls,
                labels: [("model", key.model), ("provider", provider), ("door", key.door), ("status_class", key.statusClass)]),
            duration: registry.makeDurationHistogram(
                descriptor: Self.operationDuration,
                labels: [
                    ("gen_ai_operation_name", operation), ("gen_ai_request_model", key.model), ("gen_ai_provider_name", provider),
                    ("error_type", key.errorKind),
                ],
                buckets: Self.durationBuckets),
            inputTokens: tokens("input"), outputTokens: tokens("output"),
            cost: registry.makeCounter(descriptor: Self.cost, labels: [("model", key.model), ("provider", provider)]))
    }

    /// From the call's start to the first chunk relayed to the client.
    public func recordTimeToFirstToken(model: String, provider: ProviderKind, door: String, duration: Duration) {
        let key = SettlementSeries.FirstTokenKey(model: model, provider: provider, door: door)
        series.firstToken(key) {
            registry.makeDurationHistogram(
                descriptor: Self.timeToFirstToken,
                labels: [
                    ("gen_ai_operation_name", Self.operationName(door: door)), ("gen_ai_request_model", model),
                    ("gen_ai_provider_name", provider.rawValue),
                ],
                buckets: Self.durationBuckets)
        }.record(duration)
    }

    public func recordUpstreamError(provider: ProviderKind, kind: String) {
        registry.makeCounter(descriptor: Self.upstreamErrors, labels: [("provider", provider.rawValue), ("kind", kind)]).increment()
    }

    /// For the pipeline's attempt step: one more try of the same candidate.
    public func recordRetry(model: String, provider: ProviderKind) {
        registry.makeCounter(descriptor: Self.retries, labels: [("model", model), ("provider", provider.rawValue)]).increment()
    }

    /// For the pipeline's route step: a call moved on to the model's next fallback.
    public func recordFallback(from model: String, to fallback: String) {
        registry.makeCounter(descriptor: Self.fallbacks, labels: [("from_model", model), ("to_model", fallback)]).increment()
    }

    /// For the circuit breakers: one series per state, 1 for the current one.
    public func setCircuitState(provider: ProviderKind, target: String, state: String) {
        for candidate in ["closed", "open", "half_open"] {
            registry.makeGauge(descriptor: Self.circuitState, labels: [("provider", provider.rawValue), ("target", target), ("state", candidate)])
                .set(to: candidate == state ? 1.0 : 0.0)
        }
    }

    public func setUsageQueueDepth(_ depth: Int) {
        registry.makeGauge(descriptor: Self.usageQueueDepth).set(to: Double(depth))
    }

    public func recordUsageWriteFailure() {
        registry.makeCounter(descriptor: Self.usageWriteFailures).increment()
    }

    /// For the usage writer's dead letters (records given up on and set aside).
    public func setUsageDeadLetters(_ count: Int) {
        registry.makeGauge(descriptor: Self.usageDeadLetters).set(to: Double(count))
    }

    public func setDatabaseConnectionsInUse(_ count: Int) {
        registry.makeGauge(descriptor: Self.databaseInUse).set(to: Double(count))
    }

    public func setUndecryptableKeys(_ count: Int) {
        registry.makeGauge(descriptor: Self.undecryptableKeys).set(to: Double(count))
    }

    /// The GenAI `gen_ai.operation.name` of a door.
    package static func operationName(door: String) -> String {
        switch door {
        case "embeddings": "embeddings"
        case "responses", "messages", "chat.completions": "chat"
        default: door
        }
    }

    // Buckets from the GenAI conventions' advice for duration and token-count histograms.
    package static let durationBuckets: [Duration] = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
        .map { Duration.milliseconds(Int64($0 * 1000)) }
    package static let tokenBuckets: [Double] = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]

    package static var calls: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "gateway", metricName: "calls", unitName: "total",
            helpText: "Gateway calls by registry model, provider, front door and status class.")
    }
    package static var operationDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "gen_ai_client_operation_duration", unitName: "seconds", helpText: "GenAI operation duration (gen_ai.client.operation.duration).")
    }
    package static var tokenUsage: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "gen_ai_client_token_usage", unitName: "", helpText: "Input and output tokens per call (gen_ai.client.token.usage).")
    }
    package static var timeToFirstToken: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "gen_ai_server_time_to_first_token", unitName: "seconds",
            helpText: "Time from the call's start to its first streamed chunk (gen_ai.server.time_to_first_token).")
    }
    package static var cost: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "gateway", metricName: "cost_usd", unitName: "total",
            helpText: "Cost of gateway calls in US dollars, from the registry's prices.")
    }
    package static var upstreamErrors: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "upstream", metricName: "errors", unitName: "total", helpText: "Upstream failures by provider and error kind.")
    }
    package static var retries: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "gateway", metricName: "retries", unitName: "total", helpText: "Upstream attempts retried.")
    }
    package static var fallbacks: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "gateway", metricName: "fallbacks", unitName: "total", helpText: "Calls moved to a fallback model.")
    }
    package static var circuitState: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "circuit", metricName: "state", unitName: "",
            helpText: "Circuit breaker state per provider target (1 = current state).")
    }
    package static var usageQueueDepth: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "usage", metricName: "queue_depth", unitName: "", helpText: "Usage records waiting to be written.")
    }
    package static var usageWriteFailures: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "usage", metricName: "write_failures", unitName: "total", helpText: "Failed usage batch writes.")
    }
    package static var usageDeadLetters: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "usage", metricName: "dead_letters", unitName: "", helpText: "Usage records set aside after failed writes.")
    }
    package static var databaseInUse: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "database", metricName: "connections_in_use", unitName: "",
            helpText: "Database connections (or the SQLite connection) in use right now.")
    }
    package static var undecryptableKeys: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "model_service", subsystem: "vault", metricName: "undecryptable_keys", unitName: "",
            helpText: "Stored provider keys that cannot be decrypted with the current master secret.")
    }
}

import Foundation

/// The operations settings read from the environment: metrics access, traces, log format.
public struct ObservabilitySettings: Sendable {
    /// When set, `GET /metrics` requires `Authorization: Bearer <METRICS_TOKEN>`.
    public var metricsToken: Secret?
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: base URL of an OTLP/HTTP collector; nil turns tracing off.
    public var otlpEndpoint: String?
    /// `OTEL_EXPORTER_OTLP_PROTOCOL=http/json` sends JSON instead of protobuf.
    public var otlpJSON: Bool
    /// `OTEL_BSP_SCHEDULE_DELAY` in milliseconds: how often finished spans are exported.
    public var batchDelay: Duration?
    /// `OTEL_SERVICE_NAME`, default `model-service`.
    public var serviceName: String
    /// `LOG_FORMAT=json`: one JSON object per log line.
    public var jsonLogs: Bool

    public var tracingEnabled: Bool { otlpEndpoint != nil }

    public init(environment: [String: String]) throws(ConfigurationError) {
        metricsToken = environment["METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : Secret($0) }
        if let endpoint = environment["OTEL_EXPORTER_OTLP_ENDPOINT"], !endpoint.isEmpty {
            guard let url = URL(string: endpoint), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw .invalid("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://collector:4318")
            }
            otlpEndpoint = endpoint
        }
        switch environment["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "" {
        case "", "http/protobuf": otlpJSON = false
        case "http/json": otlpJSON = true
        case let other: throw .invalid("OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (gRPC is not built in), got '\(other)'")
        }
        if let raw = environment["OTEL_BSP_SCHEDULE_DELAY"], !raw.isEmpty {
            guard let millis = Int(raw), millis > 0 else { throw .invalid("OTEL_BSP_SCHEDULE_DELAY must be a positive number of milliseconds") }
            batchDelay = .milliseconds(millis)
        }
        serviceName = environment["OTEL_SERVICE_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "model-service"
        switch (environment["LOG_FORMAT"] ?? "").lowercased() {
        case "", "text": jsonLogs = false
        case "json": jsonLogs = true
        case let other: throw .invalid("LOG_FORMAT must be text or json, got '\(other)'")
        }
    }
}

import Foundation
import Metrics
import Prometheus
import Synchronization

/// The process-wide registry behind swift-metrics, where `HTTPMetricsMiddleware` and any
/// library using swift-metrics record (HTTP requests, durations, active requests).
///
/// `MetricsSystem.bootstrap` may run once per process, so this is the one place that calls it;
/// gateway metrics stay in each application's own ``GatewayMetrics`` registry.
public enum MetricsBootstrap {
    private static let state = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Bootstraps swift-metrics before any metric is made (metrics made earlier would stay no-ops).
    public static func install() {
        _ = processRegistry
    }

    /// The shared registry, bootstrapping swift-metrics with it on first use.
    public static var processRegistry: PrometheusCollectorRegistry {
        state.withLock { registry in
            if let registry { return registry }
            let created = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: created))
            registry = created
            return created
        }
    }
}

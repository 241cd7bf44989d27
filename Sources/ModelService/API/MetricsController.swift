import Foundation
import Hummingbird
import NIOCore
import Prometheus
import ModelServiceCore

/// `GET /metrics`: Prometheus text for scrapers; open unless `METRICS_TOKEN` is set.
///
/// Gauges that mirror another component's state (usage queue and dead letters, database connections,
/// undecryptable keys, circuit states, calls in flight per deployment) are read at scrape time, so nothing on the request path pays for them.
struct MetricsController {
    let metrics: GatewayMetrics
    let token: Secret?
    let usage: UsageRecorder
    let database: Database
    let vault: KeyVault
    let breakers: CircuitBreakers
    let registry: ModelRegistry
    let router: DeploymentRouter

    func register(on router: Router<AppRequestContext>) {
        router.get("/metrics", use: scrape)
    }

    @Sendable func scrape(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let token {
            let presented = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
            guard SecretComparison.equal(presented.utf8, token.reveal.utf8) else { throw ServiceError.unauthorized() }
        }
        metrics.setUsageQueueDepth(usage.pendingCount)
        metrics.setDatabaseConnectionsInUse(database.connectionsInUse)
        metrics.setUndecryptableKeys(vault.health.undecryptable)
        metrics.setUsageDeadLetters(usage.spill.deadLetterCount)
        for circuit in breakers.statuses() {
            metrics.setCircuitState(
                provider: ProviderKind(name: circuit.provider) ?? .openai, target: "\(circuit.baseURL) \(circuit.upstreamModel)",
                state: circuit.state.rawValue)
        }
        for model in registry.snapshot.models {
            for deployment in model.deployments {
                guard let status = router.status(deployment.id) else { continue }  // never called on this instance
                metrics.setDeploymentInFlight(model: model.name, deployment: deployment.id, inFlight: status.inFlight)
            }
        }
        var bytes: [UInt8] = []
        MetricsBootstrap.processRegistry.emit(into: &bytes)
        metrics.registry.emit(into: &bytes)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}

import Hummingbird
import ModelServiceCore

/// `GET /api/providers/health` (admin): every deployment's circuit breaker with its state, recent error rate and last error,
/// and its last-known headroom.
struct ProvidersHealthController {
    let traffic: TrafficControl

    struct Answer: Encodable {
        var circuits: [CircuitBreakers.Status]
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("health", use: health)
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Answer> {
        _ = try context.requireAdmin()
        return JSONResponse(Answer(circuits: traffic.circuitStatuses()))
    }
}

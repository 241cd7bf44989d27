import Hummingbird
import ModelServiceCore

/// `GET /api/providers/health` (admin): every circuit breaker with its state, recent error rate and last error.
struct ProvidersHealthController {
    let breakers: CircuitBreakers

    struct Answer: Encodable {
        var circuits: [CircuitBreakers.Status]
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("health", use: health)
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Answer> {
        _ = try context.requireAdmin()
        return JSONResponse(Answer(circuits: breakers.statuses()))
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ModelServiceCore

/// The one wiring place: builds the components, the router and the application for `serve` and tests.
public func buildApplication(configuration: AppConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let components = try await ServiceComponents.make(configuration: configuration, logger: logger)
    return try await buildApplication(components: components, logger: logger)
}

public func buildApplication(components: ServiceComponents, logger: Logger) async throws -> some ApplicationProtocol {
    let router = buildRouter(components: components)
    let configuration = components.configuration
    let headerTimeout = TimeAmount(configuration.httpHeaderTimeout)
    var app = Application(
        router: router,
        server: .http1(configuration: .init(
            additionalChannelHandlers: [HeaderTimeoutHandler(timeout: headerTimeout)],
            idleTimeout: TimeAmount(configuration.httpIdleTimeout)
        )),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "model-service",
            availableConnectionsDelegate: ConnectionLimit(maximum: configuration.maxConnections, logger: logger)
        ),
        services: components.services,
        logger: logger
    )
    app.beforeServerStarts {
        if let adminToken = try await components.prepare() {
            // Printed once, on the first start only; it is stored hashed and cannot be shown again.
            print("""

                ==> Created the first admin access token (shown only this once; store it now):
                    \(adminToken.reveal)

                """)
        }
    }
    return app
}

/// All routes: `/api/health` open, everything else behind a bearer token.
public func buildRouter(components: ServiceComponents) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    // First, so every response (errors included) carries X-Request-Id.
    router.add(middleware: RequestIdMiddleware())
    // Outside ErrorMiddleware, so HTTP metrics and the request span see the final status.
    MetricsBootstrap.install()
    router.add(middleware: HTTPMetricsMiddleware())
    if components.configuration.observability.tracingEnabled {
        router.add(middleware: RequestIdSpanMiddleware())
        router.add(middleware: TracingMiddleware(recordingHeaders: [HTTPField.Name.xRequestId]))
    }
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: InputCheckMiddleware())
    router.add(middleware: LogRequestsMiddleware(.info, includeHeaders: .none))
    let health = HealthController(
        database: components.database, probe: components.health, usage: components.usage, registry: components.registry, vault: components.vault,
        limiter: components.traffic.limiter
    )
    health.register(on: router)
    // Outside the bearer-token group: it answers only to x-internal-secret.
    DecryptController(vault: components.vault, internalSecret: components.configuration.internalSecret, refusals: components.decryptRefusals)
        .register(on: router)
    MetricsController(
        metrics: components.metrics, token: components.configuration.observability.metricsToken, usage: components.usage,
        database: components.database, vault: components.vault, breakers: components.traffic.breakers, registry: components.registry,
        router: components.traffic.router
    ).register(on: router)
    OpenAPIController().register(on: router)

    // One budget for the bytes of bodies in flight on every route group.
    let bodies = InflightBodyBudget(capacity: components.configuration.maxInflightBodyBytes)
    let api = router.group("api")
        .add(middleware: BodyLimitMiddleware(limit: components.configuration.maxAPIBodyBytes, budget: bodies))
        .add(middleware: AuthMiddleware(tokens: components.tokens))
    let models = api.group("models")
    DeploymentController(registry: components.registry, endpoints: components.pipeline.endpoints).register(on: models)
    ModelController(registry: components.registry).register(on: models)
    TokenController(tokens: components.tokens, teams: components.teams).register(on: api.group("tokens"))
    TeamController(teams: components.teams).register(on: api.group("teams"))
    APIKeyController(vault: components.vault, registry: components.registry, teams: components.teams).register(on: api.group("api-keys"))
    UserKeyController(vault: components.vault, registry: components.registry).register(on: api.group("users/me/keys"))
    AuditController(database: components.database).register(on: api.group("audit"))
    UsageController(database: components.database, teams: components.teams).register(on: api.group("usage"))
    BudgetController(traffic: components.traffic, teams: components.teams).register(on: api.group("budgets"))
    ProvidersHealthController(traffic: components.traffic).register(on: api.group("providers"))
    WebhookController(webhooks: components.webhooks).register(on: api.group("webhooks"))

    let v1 = router.group("v1")
        .add(middleware: BodyLimitMiddleware(limit: components.configuration.maxRequestBytes, budget: bodies))
        .add(middleware: AuthMiddleware(tokens: components.tokens))
    ChatCompletionsDoor(pipeline: components.pipeline, registry: components.registry).register(on: v1)
    EmbeddingsDoor(pipeline: components.pipeline).register(on: v1)
    ResponsesDoor(pipeline: components.pipeline).register(on: v1)
    // Anthropic's door: its own error shape, and `x-api-key` accepted beside Bearer.
    let messages = router.group("v1/messages")
        .add(middleware: ErrorMiddleware(shape: .anthropic))
        .add(middleware: AuthMiddleware(tokens: components.tokens, acceptsAPIKeyHeader: true))
    MessagesDoor(pipeline: components.pipeline).register(on: messages)

    buildConsole(on: router, components: components, health: health, bodies: bodies)
    return router
}

import Foundation
import Logging
import ServiceLifecycle
import ModelServiceCore

/// The long-lived parts of one running instance, made once by ``buildApplication(configuration:logger:)``
/// or by a command-line command, and shared by the routes.
public struct ServiceComponents: Sendable {
    public let configuration: AppConfiguration
    public let database: Database
    public let changeFeed: ChangeFeed
    public let registry: ModelRegistry
    public let tokens: AccessTokenStore
    public let teams: TeamStore
    /// The console's single sign-on provider; nil when `OIDC_ISSUER` is unset.
    public let openID: OpenIDProvider?
    /// The one HTTP client for every upstream call (key validation and the gateway), pooled.
    public let upstream: UpstreamClient
    /// Stored provider keys: encryption, CRUD, validation, audit.
    public let vault: KeyVault
    /// Picks the key for each gateway call, from memory.
    public let keyResolver: KeyResolver
    public let usage: UsageRecorder
    /// Deletes usage records past `USAGE_RETENTION_DAYS` (idle without it).
    public let usagePruner: UsagePruner
    /// Refused decrypt attempts: rate limit per address and aggregated audit rows.
    public let decryptRefusals: DecryptRefusals
    /// The database check behind `/api/health`, shared by all callers.
    public let health: HealthProbe
    /// The call pipeline every gateway door uses.
    public let pipeline: CallPipeline
    /// The web console's templates, loaded once at start.
    let consoleRenderer: ConsoleRenderer
    /// Gateway metrics of this instance, served by `GET /metrics`.
    public let metrics: GatewayMetrics
    /// Spans of the gateway; a no-op unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
    public let tracing: GatewayTracing
    /// The OTLP exporter, when this instance installed the tracer.
    let tracingService: (any Service)?
    /// Budgets, rate limits, retries, fallbacks, circuit breakers and key health.
    public let traffic: TrafficControl
    /// Alert webhooks: the admin operations, the queue of alerts raised on the call's path, and their delivery.
    public let webhooks: Webhooks
    public let webhookEmitter: WebhookEmitter
    public let webhookDispatcher: WebhookDispatcher
    public let logger: Logger
    private let httpClientLifetime: HTTPClientLifetime

    /// Opens the database and builds every component; nothing is loaded yet (see ``prepare()``).
    public static func make(configuration: AppConfiguration, logger: Logger) async throws -> ServiceComponents {
        let database = try await Database.open(configuration.databaseLocation, logger: logger, acquireTimeout: configuration.databaseTimeout)
        let registry = ModelRegistry(database: database, keyVariables: ProviderKeyVariables(environment: configuration.environment))
        var upstream = UpstreamClient(
            httpClient: UpstreamClient.makeHTTPClient(
                connectTimeout: .init(configuration.upstreamConnectTimeout), idleReadTimeout: .init(configuration.upstreamTimeout)),
            requestTimeout: .init(configuration.upstreamTimeout)
        )
        upstream.maxResponseBytes = configuration.maxUpstreamResponseBytes
        upstream.maxLineBytes = configuration.maxUpstreamLineBytes
        let endpoints = UpstreamEndpoints(environment: configuration.environment)
        let keyResolver = KeyResolver(environment: configuration.environment)
        let vault = KeyVault(
            database: database,
            resolver: keyResolver,
            validator: KeyValidator(endpoints: endpoints, upstream: upstream),
            newVersionCost: .forNewVersions(environment: configuration.environment),
            logger: logger
        )
        let metrics = GatewayMetrics()
        let teams = TeamStore(database: database)
        let tracingService = try TracingBootstrap.start(configuration.observability, logger: logger)
        let tracing = GatewayTracing(enabled: configuration.observability.tracingEnabled)
        let webhookEmitter = WebhookEmitter(database: database, logger: logger)
        let traffic = TrafficControl(
            database: database, registry: registry, keyHealth: KeyHealth(vault: vault, logger: logger), settings: configuration.traffic, logger: logger,
            events: webhookEmitter)
        let usage = UsageRecorder(
            database: database, interval: configuration.usageFlushInterval, queueLimit: configuration.usageQueueMax,
            shutdownBound: configuration.usageShutdownBound,
            spill: UsageSpillFile(directory: configuration.dataDirectory, logger: logger), logger: logger, metrics: metrics,
            hooks: [traffic.budgets]
        )
        return ServiceComponents(
            configuration: configuration,
            database: database,
            changeFeed: ChangeFeed(
                database: database, interval: configuration.changePollInterval, fullReloadInterval: configuration.changeFullReloadInterval,
                listens: configuration.changeListen, logger: logger),
            registry: registry,
            tokens: AccessTokenStore(database: database, environmentAdminToken: configuration.adminToken, logger: logger),
            teams: teams,
            openID: configuration.openID.map { OpenIDProvider(settings: $0, http: upstream.httpClient) },
            upstream: upstream,
            vault: vault,
            keyResolver: keyResolver,
            usage: usage,
            usagePruner: UsagePruner(database: database, retentionDays: configuration.usageRetentionDays, logger: logger),
            decryptRefusals: DecryptRefusals(database: database, limitPerMinute: configuration.decryptRefusalsPerMinute, logger: logger),
            health: HealthProbe(database: database),
            pipeline: CallPipeline(
                registry: registry, keys: keyResolver, endpoints: endpoints,
                upstream: upstream, usage: usage, traffic: traffic, hooks: [TrafficSettlementHook(traffic: traffic)], metrics: metrics, tracing: tracing,
                teams: teams
            ),
            consoleRenderer: try await ConsoleRenderer.load(),
            metrics: metrics,
            tracing: tracing,
            tracingService: tracingService,
            traffic: traffic,
            webhooks: Webhooks(database: database, vault: vault),
            webhookEmitter: webhookEmitter,
            // Deliveries share the upstream client's pool; each send has its own timeout (`WEBHOOK_TIMEOUT_MS`).
            webhookDispatcher: WebhookDispatcher(
                database: database, vault: vault, httpClient: upstream.httpClient, settings: configuration.webhooks, logger: logger),
            logger: logger,
            httpClientLifetime: HTTPClientLifetime(client: upstream.httpClient)
        )
    }

    /// Everything to run in the service group, in start order (shut down in reverse: the database last).
    public var services: [any Service] {
        // The exporter first, so it stops last and sends the final spans.
        (tracingService.map { [$0] } ?? [])
            + [database.service, changeFeed, usage, usagePruner, decryptRefusals, HTTPClientService(client: upstream.httpClient), traffic.limiter, traffic.budgets]
            + (traffic.keyHealth.map { [$0] } ?? [])
            // After the HTTP client and the database, so they stop first and both are still there while they stop.
            + [webhookEmitter, webhookDispatcher]
    }

    /// Runs `body` with the database usable and shuts the HTTP client down afterwards, for
    /// command-line commands and tests that have no service group.
    public func withRunning<T: Sendable>(_ body: @Sendable (ServiceComponents) async throws -> T) async throws -> T {
        let result: Result<T, any Error>
        do {
            result = .success(try await database.withRunning { _ in try await body(self) })
        } catch {
            result = .failure(error)
        }
        try? await upstream.httpClient.shutdown()
        return try result.get()
    }

    /// Checks the database, migrates, seeds and loads the caches; runs before the server accepts requests.
    /// Returns the bootstrap admin token when one was just created (to be printed once).
    public func prepare() async throws -> Secret? {
        try await database.checkReachable()
        try await Migrations.run(on: database)
        traffic.limiter.arm()
        // Records a previous run could not write (database gone at shutdown, queue full) go in first.
        await usage.importSpilled()
        // A wrong or missing master secret stops the start here, before any request is served.
        try await vault.unlock(environment: configuration.environment, dataDirectory: configuration.dataDirectory)
        let adminToken = try await tokens.bootstrapAdminIfNeeded()
        if configuration.seedOnStart {
            try await CatalogSeeder(database: database, logger: logger).seed()
        }
        try await changeFeed.arm(counters: [
            ModelStore.changeCounter, AccessTokenStore.changeCounter, KeyVault.changeCounter, BudgetRows.changeCounter, TeamStore.changeCounter,
        ])
        changeFeed.subscribe(ModelStore.changeCounter, changed: { [registry] ids in try await registry.reload(ids: ids) })
        changeFeed.subscribe(AccessTokenStore.changeCounter) { [tokens] in try await tokens.reload() }
        changeFeed.subscribe(KeyVault.changeCounter) { [vault] in try await vault.reload() }
        changeFeed.subscribe(BudgetRows.changeCounter) { [traffic] in try await traffic.budgets.reload() }
        changeFeed.subscribe(TeamStore.changeCounter) { [teams] in try await teams.reload() }
        try await registry.reload()
        try await tokens.reload()
        try await vault.reload()
        try await traffic.budgets.reload()
        try await teams.reload()
        webhookDispatcher.arm()
        return adminToken
    }
}

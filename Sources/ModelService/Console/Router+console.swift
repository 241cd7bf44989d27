import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// The web console under `/console`: every page and its two static files behind ``ConsoleMiddleware``;
/// form bodies are held to `MAX_API_BODY_BYTES` like `/api`, inside it so a refusal is an HTML page.
func buildConsole(on router: Router<AppRequestContext>, components: ServiceComponents, health: HealthController, bodies: InflightBodyBudget) {
    let sessions = ConsoleSessions(
        database: components.database, tokens: components.tokens, hours: components.configuration.consoleSessionHours,
        alwaysSecure: components.configuration.consoleSecureCookies
    )
    let pages = ConsolePages(renderer: components.consoleRenderer, sessions: sessions)
    let console = router.group("console")
        .add(middleware: ConsoleMiddleware(pages: pages))
        .add(middleware: BodyLimitMiddleware(limit: components.configuration.maxAPIBodyBytes, budget: bodies))
    console.get("static/{file}") { _, context in
        guard let response = components.consoleRenderer.staticFile(try context.parameters.require("file")) else { throw ServiceError.notFound("file") }
        return response
    }
    ConsoleSignInController(pages: pages, signOn: components.openID?.settings.displayName).register(on: router, group: console)
    if let provider = components.openID {
        ConsoleSignOnController(pages: pages, provider: provider, tokens: components.tokens, teams: components.teams, database: components.database)
            .register(on: console)
    }
    ConsoleModelsController(pages: pages, registry: components.registry, pipeline: components.pipeline).register(on: console)
    ConsoleDeploymentsController(pages: pages, registry: components.registry, traffic: components.traffic, endpoints: components.pipeline.endpoints)
        .register(on: console)
    ConsolePricesController(pages: pages, registry: components.registry, imports: PriceImports(database: components.database)).register(on: console)
    ConsoleKeysController(pages: pages, vault: components.vault, registry: components.registry).register(on: console)
    ConsoleTokensController(pages: pages, tokens: components.tokens).register(on: console)
    ConsoleTeamsController(
        pages: pages, teams: components.teams, tokens: components.tokens, vault: components.vault, traffic: components.traffic, database: components.database
    ).register(on: console)
    ConsoleUsageController(pages: pages, database: components.database, traffic: components.traffic, teams: components.teams).register(on: console)
    ConsoleAuditController(pages: pages, database: components.database).register(on: console)
    ConsoleHealthController(pages: pages, health: health, breakers: components.traffic.breakers).register(on: console)
    ConsoleWebhooksController(pages: pages, webhooks: components.webhooks).register(on: console)
    ConsoleSettingsController(pages: pages, registry: components.registry, vault: components.vault).register(on: console)
}

import Foundation
import Hummingbird

/// `GET /api/health`, open to all (load balancers call it): status, database reachability, version, model count.
struct HealthController {
    let database: Database
    let probe: HealthProbe
    let usage: UsageRecorder
    let registry: ModelRegistry
    let vault: KeyVault
    let startedAt = Date()

    struct Health: Encodable {
        var status: String
        var version: String
        var database: DatabaseHealth
        var models: Int
        var activeModels: Int
        /// Stored key counts; `undecryptable` > 0 means the master secret does not open some keys.
        var vault: KeyVault.Health
        var uptimeSeconds: Int
        var usage: UsageHealth
    }

    /// Usage accounting: records waiting in memory, refused by the database, or waiting in the pending file.
    struct UsageHealth: Encodable {
        var queued: Int
        var deadLettered: Int
        var pendingFile: Int
    }

    struct DatabaseHealth: Encodable {
        var kind: String
        var reachable: Bool
        var error: String?
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("/api/health", use: health)
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Health> {
        let body = await check()
        return JSONResponse(body, status: body.database.reachable ? .ok : .serviceUnavailable)
    }

    /// The checks behind `/api/health`, also shown on the console's Health page.
    func check() async -> Health {
        var databaseHealth = DatabaseHealth(kind: database.dialect.rawValue, reachable: true, error: nil)
        if await !probe.isReachable() {
            databaseHealth.reachable = false
            databaseHealth.error = "not reachable"
        }
        let snapshot = registry.snapshot
        return Health(
            status: databaseHealth.reachable ? "ok" : "degraded",
            version: ModelServiceVersion.current,
            database: databaseHealth,
            models: snapshot.models.count,
            activeModels: snapshot.models.filter(\.isActive).count,
            vault: vault.health,
            uptimeSeconds: Int(Date().timeIntervalSince(startedAt)),
            usage: UsageHealth(queued: usage.pendingCount, deadLettered: usage.spill.deadLetterCount, pendingFile: usage.spill.pendingCount)
        )
    }
}

public enum ModelServiceVersion {
    public static let current = "0.1.0"
}

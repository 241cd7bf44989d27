import Foundation
import Hummingbird
import ModelServiceCore

/// `GET /api/health`, open to all (load balancers call it): status, database reachability, version, model count.
struct HealthController {
    let database: Database
    let probe: HealthProbe
    let usage: UsageRecorder
    let registry: ModelRegistry
    let vault: KeyVault
    let limiter: RateLimiter
    let startedAt = Date()

    struct Health: Encodable {
        var status: String
        var version: String
        var database: DatabaseHealth
        var models: Int
        var activeModels: Int
        /// Stored key counts; `undecryptable` > 0 means the master secret does not open some keys.
        var vault: KeyVault.Health
        var limits: LimitsHealth
        var uptimeSeconds: Int
        var usage: UsageHealth
    }

    /// Usage accounting: records waiting in memory, refused by the database, or waiting in the pending file.
    struct UsageHealth: Encodable {
        var queued: Int
        var deadLettered: Int
        var pendingFile: Int
    }

    /// Where rate limits are counted (`memory`, `shared`, `shared-down-local`, `shared-down-closed`), the
    /// `LIMITS_WHEN_DB_DOWN` mode in force, and the instances a limit is shared by while the database is down.
    struct LimitsHealth: Encodable {
        var mode: String
        var whenDatabaseDown: TrafficSettings.WhenDatabaseDown
        var instances: Int
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
            limits: LimitsHealth(
                mode: databaseHealth.reachable || limiter.mode == "memory" ? limiter.mode : "shared-down-\(limiter.whenDatabaseDown.rawValue)",
                whenDatabaseDown: limiter.whenDatabaseDown, instances: limiter.instanceCount),
            uptimeSeconds: Int(Date().timeIntervalSince(startedAt)),
            usage: UsageHealth(queued: usage.pendingCount, deadLettered: usage.spill.deadLetterCount, pendingFile: usage.spill.pendingCount)
        )
    }
}

public enum ModelServiceVersion {
    public static let current = "0.1.0"
}

import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/health` (admin): the checks of `/api/health` as a page.
struct ConsoleHealthController {
    let pages: ConsolePages
    let health: HealthController
    let breakers: CircuitBreakers

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("health", use: show)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let report = await health.check()
        let data: [String: Any] = [
            "status": report.status, "ok": report.status == "ok", "version": report.version,
            "databaseKind": report.database.kind, "databaseReachable": report.database.reachable,
            "models": report.models, "activeModels": report.activeModels,
            "vaultUnlocked": report.vault.unlocked, "vaultVersion": report.vault.keyVersion.map(String.init) ?? "none",
            "keys": report.vault.keys, "activeKeys": report.vault.activeKeys, "undecryptable": report.vault.undecryptable,
            "uptime": "\(report.uptimeSeconds / 3600) h \(report.uptimeSeconds % 3600 / 60) min",
            "circuits": breakers.statuses().map { circuit -> [String: Any] in
                let errorRate = "error rate \(Int((circuit.recentErrorRate * 100).rounded()))% of \(circuit.recentCalls) recent calls"
                return [
                    "provider": "\(circuit.provider) \(circuit.upstreamModel)", "state": circuit.state.rawValue,
                    "detail": circuit.lastError.map { "\(errorRate); last error: \($0)" } ?? errorRate,
                ]
            },
        ]
        return pages.renderer.page("health", title: "Health", viewer: viewer, current: "/console/health", data)
    }
}

import Foundation
import HTTPTypes
import Hummingbird

/// `/console/health` (admin): the checks of `/api/health` as a page.
struct ConsoleHealthController {
    let pages: ConsolePages
    let health: HealthController

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
            // Provider circuits: set `"circuits": [["provider": …, "state": …, "detail": …]]` here once circuits exist.
        ]
        return pages.renderer.page("health", title: "Health", viewer: viewer, current: "/console/health", data)
    }
}

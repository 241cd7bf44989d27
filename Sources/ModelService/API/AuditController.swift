import Foundation
import Hummingbird
import ModelServiceCore

/// `GET /api/audit` (admin): the key audit trail, newest first, filtered by action, key, token and time.
struct AuditController {
    let database: Database

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[AuditLog.Entry]> {
        _ = try context.requireAdmin()
        let query = request.uri.queryParameters
        var filter = AuditLog.Filter()
        if let action = query.get("action") {
            guard AuditLog.Action(rawValue: action) != nil else {
                throw ServiceError.invalidField("action", "must be one of \(AuditLog.Action.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.action = action
        }
        filter.keyId = query.get("keyId")
        filter.tokenId = query.get("tokenId")
        filter.userId = query.get("userId")
        filter.from = try Self.timestamp(query.get("from"), field: "from")
        filter.to = try Self.timestamp(query.get("to"), field: "to")
        if let raw = query.get("limit") {
            guard let limit = Int(raw), (1...1000).contains(limit) else { throw ServiceError.invalidField("limit", "must be 1 to 1000") }
            filter.limit = limit
        }
        let filterCopy = filter
        return JSONResponse(try await database.run { try await AuditLog.list(filterCopy, on: $0) })
    }

    static func timestamp(_ text: String?, field: String) throws(ServiceError) -> Int64? {
        guard let text else { return nil }
        guard let date = Clock.parseISO8601(text) else { throw .invalidField(field, "must be an ISO 8601 timestamp") }
        return Clock.millis(from: date)
    }
}

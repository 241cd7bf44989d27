import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/audit` (admin): the audit trail, newest first, filtered by action, user and days, paged.
struct ConsoleAuditController {
    let pages: ConsolePages
    let database: Database
    static let perPage = 50

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("audit", use: list)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let query = request.uri.queryParameters
        var errors = FieldErrors(labels: ["from": "From", "to": "To"])
        var filter = AuditLog.Filter()
        let action = query.get("action") ?? ""
        if !action.isEmpty {
            if AuditLog.Action(rawValue: action) != nil { filter.action = action } else { errors.add("action", "Choose an action from the list") }
        }
        let user = query.get("user")?.trimmingCharacters(in: .whitespaces) ?? ""
        if !user.isEmpty { filter.userId = String(user.prefix(200)) }
        for (name, isEnd) in [("from", false), ("to", true)] {
            guard let text = query.get(name), !text.isEmpty else { continue }
            guard text.count == 10, let date = Clock.parseISO8601(text + "T00:00:00Z") else {
                errors.add(name, "must be a date as YYYY-MM-DD")
                continue
            }
            let millis = Clock.millis(from: date)
            if isEnd { filter.to = millis + 86_400_000 - 1 } else { filter.from = millis }
        }
        let page = ConsolePages.pageNumber(request)
        filter.limit = Self.perPage + 1
        filter.offset = (page - 1) * Self.perPage
        let chosen = filter
        let entries = try await database.run { try await AuditLog.list(chosen, on: $0) }
        let rows: [[String: Any]] = entries.prefix(Self.perPage).map { entry in
            [
                "at": String(entry.at.prefix(19)).replacingOccurrences(of: "T", with: " "), "action": entry.action, "result": entry.result,
                "actor": entry.actorRole ?? "", "tokenId": entry.tokenId.map { String($0.prefix(8)) } ?? "", "user": entry.userId ?? "",
                "provider": entry.provider ?? "", "keyId": entry.keyId.map { String($0.prefix(8)) } ?? "", "detail": entry.detail ?? "",
            ]
        }
        var link = URLComponents()
        link.path = "/console/audit"
        link.queryItems = [("action", action), ("user", user), ("from", query.get("from") ?? ""), ("to", query.get("to") ?? "")]
            .filter { !$0.1.isEmpty }.map { URLQueryItem(name: $0.0, value: $0.1) }
        func pageLink(_ number: Int) -> String {
            var copy = link
            copy.queryItems = (copy.queryItems ?? []) + [URLQueryItem(name: "page", value: String(number))]
            return copy.string ?? "/console/audit"
        }
        var data: [String: Any] = [
            "entries": rows, "user": user, "from": query.get("from") ?? "", "to": query.get("to") ?? "", "page": page,
            "actionOptions": [["value": "", "label": "Any action", "selected": action.isEmpty] as [String: Any]]
                + AuditLog.Action.allCases.map { ["value": $0.rawValue, "label": $0.rawValue, "selected": $0.rawValue == action] as [String: Any] },
        ]
        if entries.count > Self.perPage { data["nextPage"] = pageLink(page + 1) }
        if page > 1 { data["previousPage"] = pageLink(page - 1) }
        for name in ["action", "from", "to"] { if let message = errors[name] { data["\(name)Error"] = message } }
        return pages.renderer.page("audit", title: "Audit", viewer: viewer, current: "/console/audit", errors: errors, data)
    }
}

import Hummingbird
import Synchronization
import ModelServiceCore

/// Sets a route group's body size limit and holds its share of the bytes being received at once.
///
/// A `Content-Length` over the limit is refused with 413 before a byte is read; a chunked body is
/// cut at the limit when collected (``Request/decodeJSON(as:context:)``). Every request with a body
/// reserves its size (or the limit, when unknown) in one shared ``InflightBodyBudget``; past
/// `MAX_INFLIGHT_BODY_BYTES` it is a 503, so many large bodies at once cannot exhaust memory.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limit: Int
    let budget: InflightBodyBudget

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.maxBodyBytes = limit
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit { throw ServiceError.bodyTooLarge(limit: limit) }
        let hasBody = declared.map { $0 > 0 } ?? (request.headers[.transferEncoding] != nil)
        guard hasBody else { return try await next(request, context) }
        let reserved = declared ?? limit
        guard budget.reserve(reserved) else {
            throw ServiceError.refusal(.serverBusy, "Too many request bytes are being received right now; retry shortly.", retryAfterSeconds: 1)
        }
        defer { budget.release(reserved) }
        return try await next(request, context)
    }
}

/// The bytes of request bodies accepted and not yet handled, across all connections.
final class InflightBodyBudget: Sendable {
    let capacity: Int
    private let used = Atomic<Int>(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Takes `bytes` when they fit; false (and nothing taken) when they do not.
    func reserve(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= capacity else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) {
        used.subtract(bytes, ordering: .acquiringAndReleasing)
    }

    var inUse: Int { used.load(ordering: .relaxed) }
}

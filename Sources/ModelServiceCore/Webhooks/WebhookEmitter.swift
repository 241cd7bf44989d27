import Foundation
import Logging
import SQLKit
import ServiceLifecycle
import Synchronization

/// Takes alerts raised on the call's path (a circuit opening, a call refused by a budget) without waiting:
/// a bounded queue in memory, written as delivery rows by this service. Events that are recorded in a
/// transaction anyway (a budget threshold, a key marked invalid) are queued in it instead (``WebhookRows/enqueue(_:webhookId:on:)``).
public final class WebhookEmitter: Service, Sendable {
    package enum Item: Sendable {
        case event(WebhookEvent)
        /// Sent once per budget and period: the `budgets` row's mark decides, so one instance of many sends it.
        case budgetExceeded(budgetId: String, periodStart: Int64, periodEnd: Int64?)
    }

    /// Refusals of one budget are looked at in the database at most this often by one instance.
    package static let exceededRecheckMillis: Int64 = 60_000

    private let database: Database
    private let logger: Logger
    private let queue: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    /// Budget refusals already passed on recently, by "budget id:period start": a refused flood costs one statement.
    private let recentExceeded = Mutex<[String: Int64]>([:])

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
        // Bounded: alerts come in bursts (many circuits at once); past this the newest are kept.
        (queue, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(1_000))
    }

    package func emit(_ event: WebhookEvent) {
        continuation.yield(.event(event))
    }

    /// A call was refused by this budget; costs a dictionary lookup on the call's path.
    package func budgetExceeded(budgetId: String, periodStart: Int64, periodEnd: Int64?, now: Int64) {
        let key = "\(budgetId):\(periodStart)"
        let pass = recentExceeded.withLock { recent -> Bool in
            if let seen = recent[key], now - seen < Self.exceededRecheckMillis { return false }
            if recent.count >= 10_000 { recent = recent.filter { now - $0.value < Self.exceededRecheckMillis } }
            recent[key] = now
            return true
        }
        if pass { continuation.yield(.budgetExceeded(budgetId: budgetId, periodStart: periodStart, periodEnd: periodEnd)) }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await item in self.queue {
                await self.persist(item)
            }
        }
    }

    package func persist(_ item: Item) async {
        do {
            try await database.transaction { sql in
                switch item {
                case .event(let event):
                    try await WebhookRows.enqueue(event, on: sql)
                case .budgetExceeded(let budgetId, let periodStart, let periodEnd):
                    guard let event = try await Self.markExceeded(budgetId: budgetId, periodStart: periodStart, periodEnd: periodEnd, on: sql) else { return }
                    try await WebhookRows.enqueue(event, on: sql)
                }
            }
        } catch {
            logger.warning("queueing a webhook alert failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    /// Marks the budget exceeded for the period; the event when this call set the mark, nil when it was set already.
    private static func markExceeded(budgetId: String, periodStart: Int64, periodEnd: Int64?, on sql: any SQLDatabase) async throws -> WebhookEvent? {
        let row = try await sql.raw("""
            UPDATE budgets SET exceeded_period = \(bind: periodStart) \
            WHERE id = \(bind: budgetId) AND (exceeded_period IS NULL OR exceeded_period <> \(bind: periodStart)) \
            RETURNING user_id, token_id, period
            """).first()
        guard let row else { return nil }
        return WebhookEvent.budgetExceeded(
            budgetId: budgetId, userId: try row.decode(column: "user_id", as: String?.self), tokenId: try row.decode(column: "token_id", as: String?.self),
            period: try row.decode(column: "period", as: String.self), periodEnd: periodEnd)
    }
}

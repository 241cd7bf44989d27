import Foundation
import SQLKit

/// Every price a model has had and from when (`model_prices`): a row is written with the model's creation and
/// with each change of its prices, in the change's own transaction, so the history is never out of step with the
/// model. Usage records keep the cost they were charged, so history explains old records; it never reprices them.
package enum PriceHistory {
    package static func record(modelId: String, prices: ModelPrices?, at millis: Int64, on sql: any SQLDatabase) async throws {
        let values: [any SQLExpression] = [SQLBind(RandomIdentifier.timeOrderedUUID()), SQLBind(modelId), SQLBind(millis)]
            + ModelPrices.binds(prices).map { SQLBind($0) }
        try await sql.insert(into: "model_prices").columns(["id", "model_id", "effective_at"] + ModelPrices.columns).values(values).run()
    }

    /// The model's prices, newest first.
    package static func list(modelId: String, database: Database) async throws -> [PriceChange] {
        let rows = try await database.run { sql in
            try await sql.raw("SELECT * FROM model_prices WHERE model_id = \(bind: modelId) ORDER BY effective_at DESC, id DESC LIMIT 1000").all()
        }
        return try rows.map { row in
            PriceChange(effectiveAt: Clock.iso8601(millis: try row.decode(column: "effective_at", as: Int64.self)), prices: try ModelPrices(row: row))
        }
    }

    package static func delete(modelId: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM model_prices WHERE model_id = \(bind: modelId)").run()
    }
}

/// One entry of a model's price history: the prices from `effectiveAt` on (`priced` false: none), in the model's own fields.
public struct PriceChange: Sendable, Encodable, Equatable {
    public var effectiveAt: String
    public var prices: ModelPrices?

    private enum CodingKeys: String, CodingKey { case effectiveAt }

    public func encode(to encoder: any Encoder) throws {
        var own = encoder.container(keyedBy: CodingKeys.self)
        try own.encode(effectiveAt, forKey: .effectiveAt)
        var fields = encoder.container(keyedBy: Model.CodingKeys.self)
        try ModelPrices.encodeFlat(prices, into: &fields)
    }
}

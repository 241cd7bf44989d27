import Foundation
import NIOCore
import SQLKit

/// Usage records as CSV or JSON lines for billing systems (`GET /api/usage/export`): read in pages of
/// ``pageRows`` by the `at` index, keyset-paged on `(at, id)`, and written page by page, so an export of
/// any size holds one page in memory.
package struct UsageExport: Sendable {
    package enum Format: String, Sendable {
        case csv, jsonl

        package var contentType: String { self == .csv ? "text/csv; charset=utf-8" : "application/x-ndjson" }
    }

    package static let pageRows = 1_000

    /// The columns, in the CSV's order and with the JSON lines' names.
    package static let columns = [
        "id", "at", "user_id", "token_id", "model", "requested_model", "provider", "key_id", "key_source", "status", "error_code",
        "streamed", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
        "cache_write_1h_tokens", "reasoning_tokens", "cost", "priced", "latency_ms", "attempts", "usage_estimated", "request_id",
    ]

    package let database: Database
    package let fromMillis: Int64
    package let toMillis: Int64
    package let userId: String?
    package let format: Format

    package init(database: Database, fromMillis: Int64, toMillis: Int64, userId: String?, format: Format) {
        self.database = database
        self.fromMillis = fromMillis
        self.toMillis = toMillis
        self.userId = userId
        self.format = format
    }

    /// Hands each page, encoded, to `write`, in time order; the CSV header first.
    package func run(_ write: (ByteBuffer) async throws -> Void) async throws {
        if format == .csv { try await write(ByteBuffer(string: Self.columns.joined(separator: ",") + "\n")) }
        var after: (at: Int64, id: String)?
        while true {
            let rows = try await page(after: after)
            guard let last = rows.last else { return }
            var buffer = ByteBuffer()
            for row in rows {
                if format == .csv { buffer.writeString(Self.csvLine(row)) } else { Self.writeJSONLine(row, into: &buffer) }
            }
            try await write(buffer)
            if rows.count < Self.pageRows { return }
            after = (try last.decode(column: "at", as: Int64.self), try last.decode(column: "id", as: String.self))
        }
    }

    private func page(after: (at: Int64, id: String)?) async throws -> [any SQLRow] {
        var query: SQLQueryString = """
            SELECT \(unsafeRaw: Self.columns.joined(separator: ", ")) FROM usage_records \
            WHERE at >= \(bind: fromMillis) AND at < \(bind: toMillis)
            """
        if let userId { query = query + " AND user_id = \(bind: userId)" }
        // `at >= last` bounds the index range, so each page starts where the last one ended (the OR alone
        // would be a filter, and every page would read the range from its start again).
        if let after { query = query + " AND at >= \(bind: after.at) AND (at > \(bind: after.at) OR id > \(bind: after.id))" }
        let paged = query + " ORDER BY at, id LIMIT \(bind: Self.pageRows)"
        return try await database.run { sql in try await sql.raw(paged).all() }
    }

    /// One record's values as text, in the columns' order (nil for NULL).
    private static func values(_ row: any SQLRow) -> [(String, Value)] {
        columns.map { column in
            switch column {
            case "at": (column, (try? row.decode(column: column, as: Int64.self)).map { .text(Clock.iso8601(millis: $0)) } ?? .null)
            case "cost": (column, (try? row.decode(column: column, as: Double.self)).map(Value.number) ?? .null)
            case "streamed", "priced", "usage_estimated": (column, (try? row.decode(column: column, as: Bool.self)).map(Value.bool) ?? .null)
            case "status", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
                "cache_write_1h_tokens", "reasoning_tokens", "latency_ms", "attempts":
                (column, (try? row.decode(column: column, as: Int64.self)).map(Value.integer) ?? .null)
            default: (column, (try? row.decode(column: column, as: String?.self)).flatMap { $0 }.map(Value.text) ?? .null)
            }
        }
    }

    private enum Value {
        case text(String), integer(Int64), number(Double), bool(Bool), null
    }

    package static func csvLine(_ row: any SQLRow) -> String {
        values(row).map { _, value in
            switch value {
            case .text(let text): csvField(text)
            case .integer(let number): String(number)
            case .number(let number): String(number)
            case .bool(let flag): flag ? "true" : "false"
            case .null: ""
            }
        }.joined(separator: ",") + "\n"
    }

    /// Quoted when it holds a separator, a quote or a line break; text a spreadsheet would run as a
    /// formula (a user id a client sent, say) is prefixed with `'`.
    package static func csvField(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record as a JSON object on one line, its members in the columns' order (written by hand: a
    /// JSONEncoder per record cost more than reading the record).
    package static func writeJSONLine(_ row: any SQLRow, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "{"))
        for (index, (column, value)) in values(row).enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeInteger(UInt8(ascii: "\""))
            buffer.writeString(column)
            buffer.writeString("\":")
            switch value {
            case .text(let text): buffer.writeBytes(JSONStringBytes.quoted(text))
            case .integer(let number): buffer.writeString(String(number))
            case .number(let number): buffer.writeString(number.isFinite ? String(number) : "null")
            case .bool(let flag): buffer.writeString(flag ? "true" : "false")
            case .null: buffer.writeString("null")
            }
        }
        buffer.writeString("}\n")
    }
}

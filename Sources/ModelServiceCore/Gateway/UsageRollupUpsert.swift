import SQLKit
import Synchronization

/// `INSERT INTO <rollup> (…) VALUES (…), … ON CONFLICT (<key>) DO UPDATE SET <sum> = <sum> + EXCLUDED.<sum>, …`
/// for one slice of a batch's rollup rows, written straight into the serializer as ``UsageRowsInsert``
/// is: the statement text is made once per table, row count and dialect, and the values go to the
/// binds as they are (SQLKit's generic interpolation spent more on serializing the binds than the
/// database spent on the upserts).
package struct UsageRollupUpsert: SQLExpression {
    package let table: String
    package let keyColumns: [String]
    /// Each row's key values then its sums, in ``UsageRollups/sumColumns`` order.
    package let rows: [[any Encodable & Sendable]]

    package func serialize(to serializer: inout SQLSerializer) {
        assert(serializer.binds.isEmpty, "a rollup upsert is a statement of its own")
        let postgres = serializer.dialect.name == "postgresql"
        serializer.write(Self.statement(table: table, keyColumns: keyColumns, rows: rows.count, postgres: postgres))
        var binds = serializer.binds
        binds.reserveCapacity(rows.count * (keyColumns.count + UsageRollups.sumColumns.count))
        for row in rows { binds.append(contentsOf: row) }
        serializer.binds = binds
    }

    private struct StatementKey: Hashable {
        var table: String
        var rows: Int
        var postgres: Bool
    }

    /// One statement text per table, row count and dialect (at most a statement's rows each).
    private static let statements = Mutex<[StatementKey: String]>([:])

    private static func statement(table: String, keyColumns: [String], rows: Int, postgres: Bool) -> String {
        let key = StatementKey(table: table, rows: rows, postgres: postgres)
        if let known = statements.withLock({ $0[key] }) { return known }
        let columns = keyColumns + UsageRollups.sumColumns
        var sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        sql += UsageRowsInsert.placeholders(rows: rows, columns: columns.count, postgres: postgres)
        let updates = UsageRollups.sumColumns.map { "\($0) = \(table).\($0) + EXCLUDED.\($0)" }.joined(separator: ", ")
        sql += " ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO UPDATE SET \(updates)"
        statements.withLock { $0[key] = sql }
        return sql
    }
}

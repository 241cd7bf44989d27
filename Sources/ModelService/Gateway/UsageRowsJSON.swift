/// Usage records as one JSON array of rows (each an array in ``UsageRowsInsert/columns`` order), the
/// single value SQLite's insert unpacks with `json_each`. Written by hand: a JSONEncoder per batch
/// would cost more than the statement it saves.
enum UsageRowsJSON {
    static func encode(_ records: ArraySlice<UsageRecord>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(records.count * 320)
        out.append(UInt8(ascii: "["))
        for (index, record) in records.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            text(record.id, &out)
            number(Int(record.at), &out)
            text(record.userId, &out)
            text(record.tokenId, &out)
            text(record.model, &out)
            text(record.provider.rawValue, &out)
            text(record.keyId, &out)
            text(record.keySource, &out)
            number(record.promptTokens, &out)
            number(record.completionTokens, &out)
            number(record.totalTokens, &out)
            // Finite by construction (prices × counts); a shortest round-trip decimal is valid JSON.
            out += Array((record.cost.isFinite ? "\(record.cost)" : "0").utf8)
            out.append(UInt8(ascii: ","))
            number(record.latencyMs, &out)
            number(record.status, &out)
            number(record.streamed ? 1 : 0, &out)
            text(record.errorCode, &out)
            text(record.requestId, &out)
            number(record.attempts, &out)
            number(record.usageEstimated ? 1 : 0, &out)
            if let model = record.requestedModel { out += JSONStringBytes.quoted(model) } else { out += Array("null".utf8) }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    private static func text(_ value: String?, _ out: inout [UInt8]) {
        if let value { out += JSONStringBytes.quoted(value) } else { out += Array("null".utf8) }
        out.append(UInt8(ascii: ","))
    }

    private static func number(_ value: Int, _ out: inout [UInt8]) {
        out += Array(String(value).utf8)
        out.append(UInt8(ascii: ","))
    }
}

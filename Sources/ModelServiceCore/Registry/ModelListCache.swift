import NIOCore
import Synchronization

/// The model lists as JSON (`GET /api/models`, `GET /v1/models`), built from each model's encoded bytes
/// kept between calls: at 10,000 models a list is one concatenation, and a change re-encodes only the
/// models it changed (encoding every model was ~300 ms a list).
package final class ModelListCache: Sendable {
    /// Which JSON a model has in a list: what an admin sees, what other tokens see, or its `/v1/models` entry.
    package enum Variant: Hashable, Sendable {
        case full, publicView, openAIEntry
    }

    private struct Piece: Sendable {
        package var model: Model
        package var json: [UInt8]
    }

    private let pieces = Mutex<[Variant: [String: Piece]]>([:])

    /// `prefix`, then each model's JSON (by `encode`, reused while the model is unchanged) joined by commas, then `suffix`.
    package func list(
        _ models: [Model], variant: Variant, prefix: String, suffix: String, encode: (Model) throws -> [UInt8]
    ) rethrows -> ByteBuffer {
        let known = pieces.withLock { $0[variant] ?? [:] }
        var fresh: [String: Piece] = [:]
        var out = ByteBuffer()
        out.reserveCapacity(prefix.utf8.count + suffix.utf8.count + models.count * 512)
        out.writeString(prefix)
        for (index, model) in models.enumerated() {
            if index > 0 { out.writeInteger(UInt8(ascii: ",")) }
            if let piece = known[model.id], piece.model == model {
                out.writeBytes(piece.json)
            } else {
                let json = try encode(model)
                fresh[model.id] = Piece(model: model, json: json)
                out.writeBytes(json)
            }
        }
        out.writeString(suffix)
        if !fresh.isEmpty {
            pieces.withLock { all in
                var current = all[variant] ?? [:]
                current.merge(fresh) { _, new in new }
                // Pieces of models deleted since are dropped once they could make up a third of the cache.
                if current.count > models.count + models.count / 2 + 64 {
                    let live = Set(models.map(\.id))
                    current = current.filter { live.contains($0.key) }
                }
                all[variant] = current
            }
        }
        return out
    }
}

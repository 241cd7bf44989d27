import Foundation

/// A model's candidates: itself, then its `fallbacks` in order (one level, active models only).
///
/// Saving a model checks its chain against the registry: every name must exist and no chain may
/// lead back to a model already on it, so the gateway never meets a cycle at call time.
public enum FallbackChain {
    package static let maxLength = 10

    /// The models to try for `model`, from the registry snapshot in memory.
    public static func candidates(for model: Model, in registry: ModelRegistry) -> [Model] {
        guard !model.fallbacks.isEmpty else { return [model] }  // most models: no set, no lowercasing
        var seen: Set<String> = [model.name.lowercased()]
        var result = [model]
        for name in model.fallbacks {
            guard let fallback = registry.model(named: name), fallback.isActive, seen.insert(fallback.name.lowercased()).inserted else { continue }
            result.append(fallback)
        }
        return result
    }

    /// A 400 naming `fallbacks` for an unknown name or a cycle (following fallbacks of fallbacks).
    /// Follows only the chains reachable from the saved model, by name lookups: the cost is the chain's
    /// size, not the registry's.
    package static func validate(name: String, fallbacks: [String], in snapshot: ModelRegistry.Snapshot, replacing oldName: String? = nil) throws(ServiceError) {
        let own = name.lowercased()
        let renamed = oldName?.lowercased()
        func edges(_ node: String) -> [String]? {
            if node == own { return fallbacks.map { $0.lowercased() } }
            if node == renamed { return nil }
            return snapshot.model(lowercasedName: node)?.fallbacks.map { $0.lowercased() }
        }
        for fallback in fallbacks {
            let key = fallback.lowercased()
            if key == own { throw .invalidField("fallbacks", "a model cannot fall back to itself") }
            if edges(key) == nil { throw .invalidField("fallbacks", "unknown model '\(fallback)'") }
        }
        // Depth-first search from the saved model: reaching it again is a cycle.
        var visiting: Set<String> = []
        var done: Set<String> = []
        func visit(_ node: String) -> Bool {
            if visiting.contains(node) { return true }
            if done.contains(node) { return false }
            visiting.insert(node)
            for next in edges(node) ?? [] where visit(next) { return true }
            visiting.remove(node)
            done.insert(node)
            return false
        }
        if visit(own) { throw .invalidField("fallbacks", "the fallbacks of '\(name)' form a cycle") }
    }

    package static func encode(_ names: [String]) -> String {
        (try? String(decoding: JSONEncoder().encode(names), as: UTF8.self)) ?? "[]"
    }
}

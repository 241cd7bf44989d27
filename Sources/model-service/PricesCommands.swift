import ArgumentParser
import Foundation
import ModelService
import ModelServiceCore

struct Prices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the registry's prices with a price map, and apply it when approved.",
        subcommands: [PricesImport.self]
    )
}

/// `prices import FILE [--apply]`: the differences between the registry's models and a
/// `model_prices_and_context_window.json` file (new, changed, gone); with `--apply`, the new and changed
/// prices are written, each change audited and added to the model's price history. Without it no price
/// changes: the differences are staged for an admin to apply or discard on the console's Prices page.
struct PricesImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Show how a model_prices_and_context_window.json file differs from the registry's prices; --apply writes the new and changed ones."
    )

    @Argument(help: "The price map (LiteLLM's model_prices_and_context_window.json format).")
    var file: String

    @Flag(help: "Apply the new and changed prices (each change is audited). Without it, only the differences are shown.")
    var apply = false

    func run() async throws {
        let file = self.file
        let data: Data
        do {
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
            guard size <= PriceMap.maxBytes else { throw ServiceError.invalidField("file", "is larger than \(PriceMap.maxBytes) bytes") }
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            CommandSupport.fail(error)
        }
        let map: PriceMap
        do { map = try PriceMap(json: data) } catch { CommandSupport.fail(error) }
        let apply = self.apply
        let applied = await CommandSupport.withComponents { components -> Int in
            try await components.registry.reload()
            let changes = map.diff(components.registry.models())
            say("price map: \(map.prices.count) entries; registry: \(components.registry.models().count) models; \(changes.count) differences")
            for change in changes { say(change.line) }
            let imports = PriceImports(database: components.database)
            guard apply else {
                if changes.contains(where: { $0.kind != .gone }) {
                    _ = try await imports.stage(changes, source: (file as NSString).lastPathComponent)
                    say("no price changed; approve these on the console's Prices page (/console/prices), or run again with --apply")
                }
                return 0
            }
            try await imports.supersedePending()
            var count = 0
            for change in changes {
                guard let fields = change.fields else { continue }
                _ = try await components.registry.update(id: change.model.id, fields, actor: AuditLog.Actor(tokenId: nil, role: "cli"))
                count += 1
            }
            return count
        }
        if apply { say("applied \(applied) price changes") }
    }
}

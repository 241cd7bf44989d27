import Foundation
import Logging
import SQLKit
import ServiceLifecycle

/// Marks stored keys a provider rejects (401/403 on a gateway call) as invalid, off the response path.
///
/// ``reportRejected(keyId:status:)`` makes the resolver skip the key at once and queues the write;
/// this service stores `is_valid = false` with reason and time, audits it, and reloads the vault.
/// Re-validation (`POST /api/api-keys/{id}/validate`) sets `is_valid` back when the provider accepts it.
public final class KeyHealth: Service, Sendable {
    package struct Rejection: Sendable {
        package var keyId: String
        package var status: Int
    }

    private let vault: KeyVault
    private let logger: Logger
    private let queue: AsyncStream<Rejection>
    private let continuation: AsyncStream<Rejection>.Continuation

    public init(vault: KeyVault, logger: Logger) {
        self.vault = vault
        self.logger = logger
        // Bounded: a burst of rejections of the same key needs one write, not thousands.
        (queue, continuation) = AsyncStream.makeStream(of: Rejection.self, bufferingPolicy: .bufferingNewest(1_000))
    }

    package func reportRejected(keyId: String, status: Int) {
        vault.resolver.skip(keyId)
        continuation.yield(Rejection(keyId: keyId, status: status))
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await rejection in self.queue {
                await self.persist(rejection)
            }
        }
    }

    package func persist(_ rejection: Rejection) async {
        do {
            try await vault.database.transaction { sql in
                let row = try await sql.raw("""
                    UPDATE api_keys SET is_valid = \(bind: false), invalid_reason = \(bind: "the provider answered \(rejection.status) to a gateway call"), \
                    invalid_at = \(bind: Clock.nowMillis()), updated_at = \(bind: Clock.nowMillis()) \
                    WHERE id = \(bind: rejection.keyId) AND (is_valid IS NULL OR is_valid = \(bind: true)) RETURNING user_id, provider
                    """).first()
                guard let row else { return }
                let owner = try row.decode(column: "user_id", as: String.self)
                let providerName = try row.decode(column: "provider", as: String.self)
                let provider = ProviderKind(name: providerName)
                try await AuditLog.write(
                    .keyRejected, actor: .traffic, subject: .init(keyId: rejection.keyId, owner: owner, provider: provider), result: "invalid",
                    detail: "provider answered \(rejection.status) to a gateway call", on: sql)
                let userId = owner.hasPrefix("@") ? nil : owner  // a shared or team key belongs to no user
                let alert = WebhookEvent.keyInvalid(keyId: rejection.keyId, userId: userId, provider: provider?.rawValue ?? providerName, status: rejection.status)
                try await WebhookRows.enqueue(alert, on: sql)
                try await ChangeFeed.bump(KeyVault.changeCounter, on: sql)
            }
            await vault.reloadAfterWrite()
            vault.resolver.readmit(rejection.keyId)
        } catch {
            logger.warning("marking a rejected key invalid failed", metadata: ["key.id": "\(rejection.keyId)", "error": "\(Database.describe(error))"])
        }
    }
}

import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Sends queued webhook deliveries: polls due rows, claims each (one instance wins), signs and POSTs it,
/// and records the outcome. 2xx is delivered and never sent again; anything else is retried with
/// exponential backoff until `maxAttempts`, then failed. Deliveries are at least once: a receiver
/// that must not act twice keeps the `X-Model-Service-Delivery` ids it has seen.
public final class WebhookDispatcher: Service, Sendable {
    /// Deliveries claimed per poll, and sent at the same time at most.
    package static let batchSize = 32
    package static let concurrentSends = 8
    /// The most of an answer's body read (and dropped): receivers are not trusted to be brief.
    package static let maxResponseBytes = 4 * 1024

    private let database: Database
    private let vault: KeyVault
    private let httpClient: HTTPClient
    private let settings: WebhookSettings
    private let logger: Logger
    /// Set by start-up once the tables exist and the vault is unlocked (``arm()``): no poll runs before.
    private let armed = Atomic<Bool>(false)

    public init(database: Database, vault: KeyVault, httpClient: HTTPClient, settings: WebhookSettings, logger: Logger) {
        self.database = database
        self.vault = vault
        self.httpClient = httpClient
        self.settings = settings
        self.logger = logger
    }

    /// Lets the polls begin; called by start-up after migrating and unlocking the vault.
    public func arm() {
        armed.store(true, ordering: .relaxed)
    }

    /// Polls until the group shuts down; a send under way is cancelled then (its claim lapses and
    /// another poll retries it after the timeout).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastPrune: Int64 = 0
            // How many the last poll found due: none before the first.
            var sent = 0
            while !Task.isCancelled {
                guard self.armed.load(ordering: .relaxed) else {
                    try? await Task.sleep(for: .milliseconds(50))
                    continue
                }
                // A full batch means more are waiting: go on without sleeping. Otherwise wait an interval
                // first, so the first poll too comes one interval after the start, not at a moment that
                // depends on how fast the start went.
                if sent < Self.batchSize {
                    try? await Task.sleep(for: .milliseconds(self.settings.pollMillis))
                    if Task.isCancelled { break }
                }
                sent = await self.deliverDue()
                let now = Clock.nowMillis()
                if now - lastPrune > 3_600_000 {
                    lastPrune = now
                    await self.prune(now: now)
                }
            }
        }
    }

    /// Sends the deliveries due now (up to a batch); returns how many were found due.
    @discardableResult
    package func deliverDue() async -> Int {
        let now = Clock.nowMillis()
        let due: [WebhookDeliveryRows.Due]
        do {
            due = try await database.run { try await WebhookDeliveryRows.due(now: now, limit: Self.batchSize, on: $0) }
        } catch {
            if Task.isCancelled { return 0 }
            logger.warning("reading due webhook deliveries failed", metadata: ["error": "\(Database.describe(error))"])
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for item in due {
                if running >= Self.concurrentSends {
                    _ = await group.next()
                    running -= 1
                }
                group.addTask { await self.attempt(item) }
                running += 1
            }
        }
        return due.count
    }

    /// Claims one delivery, sends it once and records what happened.
    private func attempt(_ item: WebhookDeliveryRows.Due) async {
        let now = Clock.nowMillis()
        // The claim outlasts the send, so no other poll takes the row while it is on the wire.
        let leaseUntil = now &+ settings.timeoutMillis &* 2 &+ 1_000
        do {
            guard try await database.run({ try await WebhookDeliveryRows.claim(item, now: now, leaseUntil: leaseUntil, on: $0) }) else { return }
        } catch {
            // Shutting down mid-statement is not a fault to report.
            if Task.isCancelled { return }
            logger.warning("claiming a webhook delivery failed", metadata: ["error": "\(Database.describe(error))"])
            return
        }
        let attempt = item.attempts + 1
        let outcome = await send(item)
        if Task.isCancelled { return }
        let finished = Clock.nowMillis()
        let status: WebhookDelivery.Status
        let next: Int64
        if outcome.delivered {
            (status, next) = (.delivered, finished)
        } else if attempt >= settings.maxAttempts {
            (status, next) = (.failed, finished)
        } else {
            (status, next) = (.pending, finished &+ settings.backoffMillis(afterAttempt: attempt))
        }
        do {
            try await database.run { sql in
                try await WebhookDeliveryRows.settle(
                    id: item.id, attempt: attempt, status: status, statusCode: outcome.statusCode, error: outcome.error, nextAttemptAt: next,
                    now: finished, on: sql)
            }
        } catch {
            // Shutting down mid-statement is not a fault to report.
            if Task.isCancelled { return }
            logger.warning("recording a webhook delivery failed", metadata: ["webhook.delivery": "\(item.id)", "error": "\(Database.describe(error))"])
        }
        if status == .failed {
            logger.warning(
                "a webhook delivery failed for good", metadata: ["webhook.id": "\(item.webhookId)", "webhook.delivery": "\(item.id)", "attempts": "\(attempt)"])
        }
    }

    private struct Outcome {
        var delivered = false
        var statusCode: Int?
        /// A fixed label: the URL (which may hold a token, as Slack's do) and the answer's body are never kept.
        var error: String?
    }

    private func send(_ item: WebhookDeliveryRows.Due) async -> Outcome {
        let secret: Secret
        do {
            secret = try vault.cipher().decrypt(item.secretCiphertext, binding: WebhookSignature.binding(webhookId: item.webhookId))
        } catch {
            return Outcome(error: "the signing secret cannot be decrypted")
        }
        let timestamp = Clock.nowMillis() / 1000
        var request = HTTPClientRequest(url: item.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "model-service-webhooks")
        request.headers.add(name: WebhookSignature.eventHeader, value: item.event)
        request.headers.add(name: WebhookSignature.deliveryHeader, value: item.id)
        request.headers.add(name: WebhookSignature.timestampHeader, value: String(timestamp))
        request.headers.add(name: WebhookSignature.signatureHeader, value: WebhookSignature.sign(secret: secret, timestamp: timestamp, body: item.payload))
        request.body = .bytes(ByteBuffer(string: item.payload))
        let signed = request
        let timeout = TimeAmount.milliseconds(settings.timeoutMillis)
        let client = httpClient
        do {
            let status = try await Self.withTimeout(timeout) {
                let response = try await client.execute(signed, deadline: .now() + timeout)
                // Read a little of the answer, so the connection can be reused, and drop it.
                var read = 0
                for try await chunk in response.body {
                    read += chunk.readableBytes
                    if read >= Self.maxResponseBytes { break }
                }
                return Int(response.status.code)
            }
            if (200..<300).contains(status) { return Outcome(delivered: true, statusCode: status) }
            return Outcome(statusCode: status, error: "HTTP \(status)")
        } catch is WebhookTimeout {
            return Outcome(error: "timeout")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return Outcome(error: "timeout")
        } catch {
            return Outcome(error: Task.isCancelled ? "cancelled" : "connection failed")
        }
    }

    private struct WebhookTimeout: Error {}

    /// Runs `operation`, cancelling it after `timeout`: the deadline of AsyncHTTPClient covers the answer's head only.
    private static func withTimeout<T: Sendable>(_ timeout: TimeAmount, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(timeout.nanoseconds, 0)))
                throw WebhookTimeout()
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() else { throw WebhookTimeout() }
            return result
        }
    }

    private func prune(now: Int64) async {
        let cutoff = now &- Int64(settings.retentionDays) &* 86_400_000
        do {
            try await database.run { try await WebhookDeliveryRows.prune(before: cutoff, on: $0) }
        } catch {
            // Shutting down mid-statement is not a fault to report.
            if Task.isCancelled { return }
            logger.warning("pruning the webhook delivery log failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }
}

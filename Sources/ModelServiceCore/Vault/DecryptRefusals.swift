import Crypto
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Refused calls to the decrypt endpoint: limited per client address and written to the audit
/// log as one row per source and minute with a count, not one row per attempt.
///
/// A scan once wrote 11,760 audit rows in 5 s, and 60 KB ids grew the table by 80 MB. Now the
/// first `limitPerMinute` refusals of an address in a minute get 401, later ones 429 with
/// `Retry-After`; the raw id is never stored (only the first 16 hex digits of its SHA-256), and at
/// most `maxSources` addresses are tracked at once (the rest are counted under `other`).
public final class DecryptRefusals: Service, Sendable {
    public static let defaultLimitPerMinute = 10
    package static let maxSources = 10_000
    package static let windowMillis: Int64 = 60_000

    package struct Bucket: Sendable {
        package var window: Int64
        package var count: Int
        package var lastKeyDigest: String
    }

    private let database: Database
    private let limitPerMinute: Int
    private let logger: Logger
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(database: Database, limitPerMinute: Int = DecryptRefusals.defaultLimitPerMinute, logger: Logger) {
        self.database = database
        self.limitPerMinute = max(1, limitPerMinute)
        self.logger = logger
    }

    /// Seconds the source must wait when it is already past its limit this minute, else nil.
    public func retryAfter(source: String, nowMillis: Int64 = Clock.nowMillis()) -> Int? {
        let window = nowMillis / Self.windowMillis
        let count = buckets.withLock { $0[Self.key(source, in: $0)].flatMap { $0.window == window ? $0.count : nil } ?? 0 }
        guard count >= limitPerMinute else { return nil }
        return Int(max(1, (Self.windowMillis - nowMillis % Self.windowMillis + 999) / 1000))
    }

    /// Counts one refusal of `source` for (a digest of) `keyId`.
    public func record(source: String, keyId: String, nowMillis: Int64 = Clock.nowMillis()) {
        let window = nowMillis / Self.windowMillis
        let digest = SHA256.hash(data: Array(keyId.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        var ended: Bucket?
        var endedSource = ""
        buckets.withLock { buckets in
            let key = Self.key(source, in: buckets)
            if var bucket = buckets[key], bucket.window == window {
                bucket.count += 1
                bucket.lastKeyDigest = digest
                buckets[key] = bucket
            } else {
                ended = buckets[key]
                endedSource = key
                buckets[key] = Bucket(window: window, count: 1, lastKeyDigest: digest)
            }
        }
        // A source's earlier minute closes here when no flush ran in between; it is written by the next flush.
        if let ended { pendingWrites.withLock { $0.append((endedSource, ended)) } }
    }

    private let pendingWrites = Mutex<[(String, Bucket)]>([])

    /// Writes finished minutes (all minutes when `all`, as at shutdown) as audit rows.
    public func flush(all: Bool = false, nowMillis: Int64 = Clock.nowMillis()) async {
        let window = nowMillis / Self.windowMillis
        var due = pendingWrites.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        buckets.withLock { buckets in
            for (source, bucket) in buckets where all || bucket.window < window {
                due.append((source, bucket))
                buckets[source] = nil
            }
        }
        guard !due.isEmpty else { return }
        do {
            let rows = due
            try await database.transaction { sql in
                for (source, bucket) in rows {
                    let minute = Clock.iso8601(millis: bucket.window * Self.windowMillis)
                    try await AuditLog.write(
                        .decrypt, actor: .internalSecret, subject: .init(type: "client", id: source), result: "denied",
                        detail: "\(bucket.count) refused decrypt attempt(s) in the minute from \(minute); last key id sha256:\(bucket.lastKeyDigest)",
                        count: bucket.count, on: sql)
                }
            }
        } catch {
            logger.warning("could not write refused decrypt attempts to the audit log", metadata: ["error": "\(Database.describe(error))"])
            // Kept for the next flush, bounded: a long outage keeps the newest minutes.
            pendingWrites.withLock { pending in
                pending.append(contentsOf: due)
                if pending.count > Self.maxSources { pending.removeFirst(pending.count - Self.maxSources) }
            }
        }
    }

    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
            } catch {
                break
            }
            await flush()
        }
        await flush(all: true)
    }

    /// The bucket key of `source`: the address itself (bounded), or `other` once too many are tracked.
    private static func key(_ source: String, in buckets: [String: Bucket]) -> String {
        let bounded = String(source.prefix(64))
        if buckets[bounded] == nil, buckets.count >= maxSources { return "other" }
        return bounded
    }
}

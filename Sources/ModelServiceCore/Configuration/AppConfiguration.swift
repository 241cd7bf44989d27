import Foundation
import Logging

/// Everything the service reads from its environment, parsed once at start.
///
/// Built from a plain dictionary so tests pass their own instead of mutating the process
/// environment. Secrets are held as ``Secret`` and never printed.
public struct AppConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var dataDirectory: String
    public var databaseLocation: DatabaseLocation
    public var adminToken: Secret?
    public var internalSecret: Secret?
    public var isProduction: Bool
    /// Seed the default catalog on start (first start fills the registry; later starts add only new catalog entries).
    public var seedOnStart: Bool
    /// How often each instance checks the database for changes made by other instances.
    public var changePollInterval: Duration
    /// How often every listener of the change feed reloads everything anyway (`CHANGE_FULL_RELOAD_SECONDS`).
    public var changeFullReloadInterval: Duration
    /// PostgreSQL: hear other instances' changes by `LISTEN` at once (`CHANGE_LISTEN`; off behind a
    /// pooler in transaction mode, which does not pass notifications).
    public var changeListen: Bool
    /// Limit for a whole non-streamed upstream call (and the wait for a stream's first byte).
    public var upstreamTimeout: Duration
    /// Limit for opening a connection to an upstream.
    public var upstreamConnectTimeout: Duration
    /// How often batched usage records are written.
    public var usageFlushInterval: Duration
    /// Refused decrypt attempts an address may make per minute before it gets 429s.
    public var decryptRefusalsPerMinute: Int
    /// Most usage records held in memory before new ones go to the pending spill file (`USAGE_QUEUE_MAX`).
    public var usageQueueMax: Int
    /// Days usage records are kept (`USAGE_RETENTION_DAYS`); nil keeps them all. Rollups are always kept.
    public var usageRetentionDays: Int?
    /// How long shutdown may spend writing usage before the rest goes to the pending file (`USAGE_SHUTDOWN_SECONDS`).
    public var usageShutdownBound: Duration
    /// Longest wait for a database connection (PostgreSQL pool) or lock (SQLite) before a 503 (`DATABASE_TIMEOUT_SECONDS`).
    public var databaseTimeout: Duration
    /// Largest request body on `/api/*` and console forms (`MAX_API_BODY_BYTES`).
    public var maxAPIBodyBytes: Int
    /// Largest request body on `/v1/*` (`MAX_REQUEST_BYTES`): chats may carry images.
    public var maxRequestBytes: Int
    /// Total bytes of request bodies being received at once, across all connections (`MAX_INFLIGHT_BODY_BYTES`).
    public var maxInflightBodyBytes: Int
    /// Longest line an upstream stream may send (SSE or JSON lines) before the call is cut (`MAX_UPSTREAM_LINE_BYTES`).
    public var maxUpstreamLineBytes: Int
    /// Largest non-streamed upstream answer (`MAX_UPSTREAM_RESPONSE_BYTES`).
    public var maxUpstreamResponseBytes: Int
    /// An idle keep-alive connection is closed after this (`HTTP_IDLE_TIMEOUT_SECONDS`).
    public var httpIdleTimeout: Duration
    /// A connection must finish its request head within this (`HTTP_HEADER_TIMEOUT_SECONDS`).
    public var httpHeaderTimeout: Duration
    /// Most client connections open at once; more are closed at accept (`MAX_CONNECTIONS`).
    public var maxConnections: Int
    /// The whole environment, for provider base URLs and fallback keys named by models.
    public var environment: [String: String]
    /// How long a console sign-in lasts (`CONSOLE_SESSION_HOURS`, default 12).
    public var consoleSessionHours: Int
    /// Mark the console cookie Secure even when no proxy says the request came over TLS (`CONSOLE_SECURE_COOKIES`).
    public var consoleSecureCookies: Bool
    /// Retries, circuit breakers and what limits do when PostgreSQL is down (`UPSTREAM_RETRIES`, `LIMITS_WHEN_DB_DOWN`, ...).
    public var traffic: TrafficSettings

    public static let minimumInternalSecretLength = 32
    /// Metrics access, OpenTelemetry traces and the log format.
    public var observability: ObservabilitySettings
    /// Console sign-in through an OpenID Connect provider (`OIDC_*`); nil when off.
    public var openID: OpenIDSettings?
    /// Alert webhook delivery: poll interval, retries, timeout (`WEBHOOK_*`).
    public var webhooks: WebhookSettings

    public init(environment: [String: String]) throws(ConfigurationError) {
        let environment = try GoogleCredentialsFile.environment(environment)
        self.environment = environment
        host = environment["HOST"] ?? "0.0.0.0"
        if let raw = environment["PORT"], !raw.isEmpty {
            guard let port = Int(raw), (0...65535).contains(port) else {
                throw .invalid("PORT must be a number from 0 to 65535, got '\(raw)'")
            }
            self.port = port
        } else {
            port = 3004
        }
        if let raw = environment["LOG_LEVEL"], !raw.isEmpty {
            guard let level = Logger.Level(rawValue: raw.lowercased()) ?? (raw.lowercased() == "warn" ? .warning : nil) else {
                throw .invalid("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical; got '\(raw)'")
            }
            logLevel = level
        } else {
            logLevel = .info
        }
        dataDirectory = environment["DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./data"
        do {
            databaseLocation = try DatabaseLocation.parse(environment["DATABASE_URL"], dataDirectory: dataDirectory)
        } catch {
            throw .invalid("DATABASE_URL: \(error.description)")
        }
        if let token = environment["ADMIN_TOKEN"], !token.isEmpty {
            guard token.count >= 16 else { throw .invalid("ADMIN_TOKEN must be at least 16 characters long") }
            adminToken = Secret(token)
        }
        internalSecret = environment["INTERNAL_SECRET"].flatMap { $0.isEmpty ? nil : Secret($0) }
        // It alone guards the plaintext of every key: as long as ENCRYPTION_SECRET must be.
        if let internalSecret, internalSecret.reveal.count < Self.minimumInternalSecretLength {
            throw .invalid("INTERNAL_SECRET must be at least \(Self.minimumInternalSecretLength) characters long")
        }
        for provider in ProviderKind.allCases {
            let variable = provider.baseURLEnvVar
            if let value = environment[variable], !value.isEmpty, let problem = EndpointURL.problem(value) {
                throw .invalid("\(variable) \(problem)")
            }
        }
        isProduction = [environment["ENV"], environment["NODE_ENV"]].contains { $0?.lowercased() == "production" }
        seedOnStart = (environment["SEED_ON_START"] ?? "true").lowercased() != "false"
        let pollMillis = Int(environment["CHANGE_POLL_MS"] ?? "") ?? 250
        changePollInterval = .milliseconds(max(20, pollMillis))
        changeListen = (environment["CHANGE_LISTEN"] ?? "true").lowercased() != "false"
        changeFullReloadInterval = .seconds(try Self.positiveInt(environment, "CHANGE_FULL_RELOAD_SECONDS", default: 60))
        upstreamTimeout = .seconds(try Self.positiveInt(environment, "UPSTREAM_TIMEOUT_SECONDS", default: 600))
        upstreamConnectTimeout = .seconds(try Self.positiveInt(environment, "UPSTREAM_CONNECT_TIMEOUT_SECONDS", default: 10))
        usageFlushInterval = .milliseconds(try Self.positiveInt(environment, "USAGE_FLUSH_MS", default: 200))
        traffic = try TrafficSettings(environment: environment)
        decryptRefusalsPerMinute = try Self.positiveInt(environment, "DECRYPT_REFUSALS_PER_MINUTE", default: DecryptRefusals.defaultLimitPerMinute)
        consoleSessionHours = try Self.positiveInt(environment, "CONSOLE_SESSION_HOURS", default: 12)
        guard consoleSessionHours <= 24 * 30 else { throw .invalid("CONSOLE_SESSION_HOURS must be at most 720 (30 days)") }
        consoleSecureCookies = ["true", "1", "yes"].contains((environment["CONSOLE_SECURE_COOKIES"] ?? "").lowercased())
        observability = try ObservabilitySettings(environment: environment)
        openID = try OpenIDSettings.read(environment)
        webhooks = try WebhookSettings(environment: environment)
        usageQueueMax = try Self.positiveInt(environment, "USAGE_QUEUE_MAX", default: 100_000)
        if let raw = environment["USAGE_RETENTION_DAYS"], !raw.isEmpty, raw != "0" {
            let days = try Self.positiveInt(environment, "USAGE_RETENTION_DAYS", default: 0)
            guard days <= 36_500 else { throw .invalid("USAGE_RETENTION_DAYS must be at most 36500 (a hundred years), got '\(raw)'") }
            usageRetentionDays = days
        }
        usageShutdownBound = .seconds(try Self.positiveInt(environment, "USAGE_SHUTDOWN_SECONDS", default: 10))
        databaseTimeout = .seconds(try Self.positiveInt(environment, "DATABASE_TIMEOUT_SECONDS", default: 5))
        maxAPIBodyBytes = try Self.positiveInt(environment, "MAX_API_BODY_BYTES", default: 1024 * 1024)
        maxRequestBytes = try Self.positiveInt(environment, "MAX_REQUEST_BYTES", default: 32 * 1024 * 1024)
        maxInflightBodyBytes = try Self.positiveInt(environment, "MAX_INFLIGHT_BODY_BYTES", default: 256 * 1024 * 1024)
        maxUpstreamLineBytes = try Self.positiveInt(environment, "MAX_UPSTREAM_LINE_BYTES", default: 16 * 1024 * 1024)
        maxUpstreamResponseBytes = try Self.positiveInt(environment, "MAX_UPSTREAM_RESPONSE_BYTES", default: 32 * 1024 * 1024)
        httpIdleTimeout = .seconds(try Self.positiveInt(environment, "HTTP_IDLE_TIMEOUT_SECONDS", default: 60))
        httpHeaderTimeout = .seconds(try Self.positiveInt(environment, "HTTP_HEADER_TIMEOUT_SECONDS", default: 10))
        maxConnections = try Self.positiveInt(environment, "MAX_CONNECTIONS", default: 4096)
    }

    package static func positiveInt(_ environment: [String: String], _ name: String, default value: Int) throws(ConfigurationError) -> Int {
        guard let raw = environment[name], !raw.isEmpty else { return value }
        guard let parsed = Int(raw), parsed > 0 else { throw .invalid("\(name) must be a positive whole number, got '\(raw)'") }
        return parsed
    }
}

public enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let message): message
        }
    }
}

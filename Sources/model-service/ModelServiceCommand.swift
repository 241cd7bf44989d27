import ArgumentParser
import Foundation
import Logging
import ModelService
import ModelServiceCore

struct ModelServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-service",
        abstract: "Model registry, encrypted provider keys and one OpenAI-compatible gateway for LLM calls.",
        version: Version.text,
        subcommands: [
            Serve.self, Migrate.self, Seed.self, Tokens.self, RotateEncryptionKey.self, ImportEnvKeys.self, FakeProvidersCommand.self, Audit.self, Prices.self,
            Version.self,
        ],
        defaultSubcommand: Serve.self
    )

    /// `AsyncParsableCommand.main()`, started by `main.swift` once the process is set up.
    static func runAsRoot() async {
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Shared start-up of every command: configuration from the environment and logging.
enum CommandSupport {
    static func configuration() -> AppConfiguration {
        do {
            return try AppConfiguration(environment: ProcessInfo.processInfo.environment)
        } catch {
            fail(error)
        }
    }

    static func logger(_ configuration: AppConfiguration) -> Logger {
        LoggingSystem.bootstrap { label in
            // LOG_FORMAT=json: one JSON object per line for log shippers; text stays the default.
            if configuration.observability.jsonLogs {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = configuration.logLevel
                return handler
            }
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = configuration.logLevel
            return DeferredMetadataLogHandler(wrapping: handler)
        }
        return Logger(label: "model-service")
    }

    /// One line on stderr and a non-zero exit: a start-up problem is not a crash.
    static func fail(_ error: any Error) -> Never {
        FileHandle.standardError.write(Data("model-service: error: \(error)\n".utf8))
        Foundation.exit(1)
    }

    /// Opens the database, migrates, and runs `body` with the components, for one-shot commands.
    static func withComponents<T: Sendable>(_ body: @Sendable (ServiceComponents) async throws -> T) async -> T {
        let configuration = configuration()
        let logger = logger(configuration)
        do {
            let components = try await ServiceComponents.make(configuration: configuration, logger: logger)
            return try await components.withRunning { components in
                try await components.database.checkReachable()
                try await Migrations.run(on: components.database)
                return try await body(components)
            }
        } catch {
            fail(error)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP service (the default command).")

    func run() async throws {
        let configuration = CommandSupport.configuration()
        let logger = CommandSupport.logger(configuration)
        do {
            let app = try await buildApplication(configuration: configuration, logger: logger)
            try await app.runService()
        } catch {
            CommandSupport.fail(error)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema, then exit.")

    func run() async throws {
        await CommandSupport.withComponents { components in
            print("database schema is up to date (\(components.database.location))")
        }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add the default catalog's models that were never seeded, then exit.")

    func run() async throws {
        await CommandSupport.withComponents { components in
            let added = try await CatalogSeeder(database: components.database, logger: components.logger).seed()
            print(added.isEmpty ? "nothing to seed: every catalog model was seeded before" : "seeded \(added.count) models: \(added.joined(separator: ", "))")
        }
    }
}

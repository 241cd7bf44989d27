import ArgumentParser
import Foundation
import ModelService
import ModelServiceCore

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke access tokens.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it once.")

        @Option(help: "admin, service or user") var role: AccessRole
        @Option(name: [.customLong("user"), .customLong("user-id")], help: "The user a user token is bound to, e.g. user-123.") var user: String?
        @Option(help: "A name to recognise the token by.") var name: String?
        @Option(help: "Expiry in days (default: never).") var expiresInDays: Int?

        func validate() throws {
            if role == .user, user?.isEmpty ?? true { throw ValidationError("--user is required for a user token") }
            if let user, let problem = UserId.problem(with: user) { throw ValidationError("--user \(problem)") }
            if role != .user, user != nil { throw ValidationError("--user is only for user tokens") }
            if let days = expiresInDays, days <= 0 { throw ValidationError("--expires-in-days must be positive") }
        }

        func run() async throws {
            let (role, user, name, days) = (role, user, name, expiresInDays)
            await CommandSupport.withComponents { components in
                let expiry = days.map { Date().addingTimeInterval(Double($0) * 86400) }
                let (record, secret) = try await components.tokens.create(role: role, userId: user, name: name, expiresAt: expiry, actor: .commandLine)
                print("created \(record.role.rawValue) token \(record.id)\(user.map { " for user \($0)" } ?? "") (shown only this once):")
                print(secret.reveal)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        func run() async throws {
            await CommandSupport.withComponents { components in
                for token in try await components.tokens.list() {
                    let state = token.revokedAt != nil ? "revoked" : (token.expiresAt.map { "expires \($0)" } ?? "active")
                    print("\(token.id)  \(token.role.rawValue)  \(token.userId ?? "-")  \(token.tokenPrefix)  \(token.name)  \(state)")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id.")
        @Argument var id: String

        func run() async throws {
            let id = id
            await CommandSupport.withComponents { components in
                if try await components.tokens.revoke(id: id, actor: .commandLine) {
                    print("revoked \(id)")
                } else {
                    CommandSupport.fail(ServiceError.notFound("token \(id)"))
                }
            }
        }
    }
}

extension AccessRole: ExpressibleByArgument {}

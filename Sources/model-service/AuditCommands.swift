import ArgumentParser
import Foundation
import ModelService
import ModelServiceCore

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the audit log.",
        subcommands: [AuditVerify.self]
    )
}

/// `audit verify`: walks the hash chain; exit 0 with a count when intact, else 1 naming the first bad row.
struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the audit log's hash chain; exits non-zero and names the first row altered, inserted or removed."
    )

    func run() async throws {
        let report = await CommandSupport.withComponents { components in
            try await AuditChain.verify(database: components.database)
        }
        if let problem = report.problem {
            FileHandle.standardError.write(Data("model-service: audit log check FAILED: \(problem)\n".utf8))
            Foundation.exit(1)
        }
        say("audit log intact: \(report.rows) chained rows verified (\(report.unchained) older rows from before the chain); head hash \(report.headHash)")
    }
}

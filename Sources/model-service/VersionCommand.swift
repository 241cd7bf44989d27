import ArgumentParser
import ModelService
import ModelServiceCore

/// `model-service version` (and `--version`): the version, the commit it was built from, and the last
/// migration this binary applies, so an operator can tell which instances of a deployment run what.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version, the commit and the database migration level.")

    static var text: String {
        "model-service \(ModelServiceVersion.current) (commit \(buildCommit), migrations up to \(Migrations.latest))"
    }

    func run() {
        print(Self.text)
    }
}

import Foundation
import Logging
import Synchronization

/// Usage records that could not go into the database, kept as JSON lines under the data directory.
///
/// Two files: `usage-pending.jsonl` holds records the database could not take *yet* (it was gone at
/// shutdown, or the queue was full); the next start re-imports them, and the record ids make that
/// idempotent. `usage-dead-letter.jsonl` holds records the database refused for their content (a NUL
/// byte, a row too large for an index): they are kept for an operator, never retried, and counted in health.
public final class UsageSpillFile: Sendable {
    public enum Kind: String, Sendable {
        case pending = "usage-pending.jsonl"
        case deadLetter = "usage-dead-letter.jsonl"
    }

    /// One line of either file: the record and why the database refused it (no bound values); or, in
    /// the dead-letter file, a pending line that could not be read back, kept as its text.
    package struct Entry: Codable {
        package var record: UsageRecord?
        package var reason: String?
        package var damagedLine: String?
    }

    /// What a start takes from the pending file to re-import.
    package struct Taken {
        package var records: [UsageRecord]
        /// Lines that are not a record (cut by a crash mid-write, or changed by hand): never dropped silently.
        package var damagedLines: [String]
        package var claimed: String
    }

    private let directory: String
    private let logger: Logger
    /// Serialises appends so lines never interleave; also counts lines for health.
    private let state: Mutex<Counts>

    package struct Counts {
        package var deadLettered = 0
        package var pending = 0
    }

    public init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
        state = Mutex(Counts(
            deadLettered: Self.lineCount(atPath: (directory as NSString).appendingPathComponent(Kind.deadLetter.rawValue)),
            pending: Self.lineCount(atPath: (directory as NSString).appendingPathComponent(Kind.pending.rawValue))
        ))
    }

    public func path(_ kind: Kind) -> String { (directory as NSString).appendingPathComponent(kind.rawValue) }

    /// Records refused by the database since the file was last emptied by an operator.
    public var deadLetterCount: Int { state.withLock { $0.deadLettered } }
    /// Records waiting in the pending file for the next start.
    public var pendingCount: Int { state.withLock { $0.pending } }

    /// Appends records to one file. Returns false (and logs) when even the file cannot be written.
    @discardableResult
    public func append(_ records: [UsageRecord], to kind: Kind, reason: String? = nil) -> Bool {
        write(records.map { Entry(record: $0, reason: reason) }, to: kind)
    }

    /// Sets damaged pending lines aside in the dead-letter file, each as its text with the reason.
    @discardableResult
    package func setAside(damagedLines lines: [String]) -> Bool {
        write(lines.map { Entry(reason: "unreadable line in \(Kind.pending.rawValue)", damagedLine: $0) }, to: .deadLetter)
    }

    private func write(_ entries: [Entry], to kind: Kind) -> Bool {
        guard !entries.isEmpty else { return true }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for entry in entries {
            guard let line = try? encoder.encode(entry) else { continue }
            data.append(line)
            data.append(UInt8(ascii: "\n"))
        }
        return state.withLock { counts in
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let path = path(kind)
                if !FileManager.default.fileExists(atPath: path) {
                    _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
                }
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: data)
                try handle.synchronize()
            } catch {
                logger.critical("cannot write usage records to the spill file; they are lost", metadata: [
                    "file": "\(path(kind))", "count": "\(entries.count)", "error": "\(error)",
                ])
                return false
            }
            switch kind {
            case .pending: counts.pending += entries.count
            case .deadLetter: counts.deadLettered += entries.count
            }
            return true
        }
    }

    /// Takes the pending file for re-import: renames it first, so a crash during the import leaves it
    /// to be taken again (the ids keep a second import harmless). Call ``finishImport(_:)`` after writing.
    package func takePending() -> Taken? {
        state.withLock { counts -> Taken? in
            let claimed = path(.pending) + ".importing"
            let manager = FileManager.default
            if !manager.fileExists(atPath: claimed) {
                guard manager.fileExists(atPath: path(.pending)) else { return nil }
                do {
                    try manager.moveItem(atPath: path(.pending), toPath: claimed)
                } catch {
                    logger.error("cannot claim the pending usage file", metadata: ["error": "\(error)"])
                    return nil
                }
                counts.pending = 0
            }
            guard let data = manager.contents(atPath: claimed) else { return nil }
            let decoder = JSONDecoder()
            var taken = Taken(records: [], damagedLines: [], claimed: claimed)
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                // The file is outside data: a record's numbers are bounded, and a line that is no record is kept aside.
                if let record = (try? decoder.decode(Entry.self, from: Data(line)))?.record {
                    taken.records.append(record.bounded())
                } else {
                    taken.damagedLines.append(String(decoding: line, as: UTF8.self))
                }
            }
            return taken
        }
    }

    package func finishImport(_ claimed: String) {
        try? FileManager.default.removeItem(atPath: claimed)
    }

    private static func lineCount(atPath path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }
}

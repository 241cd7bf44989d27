#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The development-only secret file: read it, or create it once with owner-only permissions.
///
/// Creation writes a private temporary file and `link`s it into place, so the file is never
/// readable by others, never half-written, and two processes starting together agree on one secret.
package enum EncryptionSecretFile {
    package static let randomByteCount = 48

    /// Returns the secret and whether this call created the file.
    package static func readOrCreate(path: String) throws(VaultConfigurationError) -> (Secret, created: Bool) {
        if let existing = try load(path: path) {
            return (existing, false)
        }
        try createDirectory(containing: path)
        let secret = Secret(Base64URL.encode(KeyCipher.randomBytes(count: randomByteCount)))
        let temporary = path + ".tmp-\(getpid())-\(Base64URL.encode(KeyCipher.randomBytes(count: 6)))"
        try store(secret.reveal, inNewFile: temporary, finalPath: path)
        defer { unlink(temporary) }
        if link(temporary, path) == 0 {
            return (secret, true)
        }
        let linkError = errno
        // Another process created it first: use theirs.
        if linkError == EEXIST, let existing = try load(path: path) {
            return (existing, false)
        }
        throw failure(path, "cannot create the file (\(message(linkError)))")
    }

    /// `nil` when the file does not exist; surrounding whitespace (an editor's newline) is ignored.
    package static func load(path: String) throws(VaultConfigurationError) -> Secret? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw failure(path, "cannot read the file (\(message(code)))")
        }
        defer { close(descriptor) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(path, "cannot read the file (\(message(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > 64 * 1024 { throw failure(path, "the file is too large to be a secret") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw failure(path, "the file is not UTF-8 text")
        }
        return Secret(String(text.trimmingWhitespace()))
    }

    private static func store(_ text: String, inNewFile temporary: String, finalPath: String) throws(VaultConfigurationError) {
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 { throw failure(finalPath, "cannot create the file (\(message(errno)))") }
        defer { close(descriptor) }
        // The umask can only remove bits, but be explicit: owner read/write and nothing else.
        fchmod(descriptor, 0o600)
        var remaining = Array(text.utf8)[...]
        while !remaining.isEmpty {
            let written = remaining.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                unlink(temporary)
                throw failure(finalPath, "cannot write the file (\(message(code)))")
            }
            remaining = remaining.dropFirst(written)
        }
        if fsync(descriptor) != 0 {
            let code = errno
            unlink(temporary)
            throw failure(finalPath, "cannot write the file (\(message(code)))")
        }
    }

    /// Creates the parent directories (owner-only for new ones) if they are missing.
    private static func createDirectory(containing path: String) throws(VaultConfigurationError) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        var current = path.hasPrefix("/") ? "" : "."
        if components.first == "" { components = components.dropFirst() }
        for component in components where !component.isEmpty {
            current += "/" + component
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw failure(path, "cannot create directory \(current) (\(message(errno)))")
            }
        }
    }

    private static func failure(_ path: String, _ reason: String) -> VaultConfigurationError {
        .secretFileFailure(path: path, reason: reason)
    }

    private static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[start...end]
    }
}

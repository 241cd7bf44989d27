import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// A posted `application/x-www-form-urlencoded` form, read with a size limit, plus the field errors
/// of a page (shown next to each field and summarised at the top, GOV.UK style).
struct ConsoleForm: Sendable {
    static let maxBytes = 256 * 1024

    var values: [String: String]

    init(values: [String: String] = [:]) {
        self.values = values
    }

    static func read(_ request: Request) async throws -> ConsoleForm {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch {
            throw ServiceError(.formTooLarge, "The form is larger than \(maxBytes / 1024) KiB.")
        }
        let text = String(buffer: buffer)
        guard !text.isEmpty else { return ConsoleForm() }
        guard let values = try? URLEncodedFormDecoder().decode([String: String].self, from: text) else {
            throw ServiceError.badRequest("The form could not be read.")
        }
        return ConsoleForm(values: values)
    }

    subscript(_ name: String) -> String? {
        values[name]
    }

    /// The field's text with surrounding spaces removed; nil when empty.
    func text(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func checked(_ name: String) -> Bool {
        values[name] != nil
    }

    /// The field as an update of a full-replacement form: an empty field clears the value when editing, and
    /// leaves it to the default when creating.
    func textUpdate(_ name: String, creating: Bool) -> FieldUpdate<String> {
        if let value = text(name) { return .set(value) }
        return creating ? .unchanged : .set(nil)
    }

    /// ``textUpdate(_:creating:)`` for a whole number; letters are reported in `errors` and change nothing.
    func integerUpdate(_ name: String, creating: Bool, errors: inout FieldErrors) -> FieldUpdate<Int> {
        guard let raw = text(name) else { return creating ? .unchanged : .set(nil) }
        guard let value = Int(raw) else {
            errors.add(name, "must be a whole number")
            return .unchanged
        }
        return .set(value)
    }
}

/// The errors of one form submission, in field order.
struct FieldErrors: Sendable {
    private(set) var entries: [(field: String, message: String)] = []
    /// Field labels, so a message from a shared check ("must be …") reads "Max tokens must be …".
    var labels: [String: String] = [:]

    init(labels: [String: String] = [:]) {
        self.labels = labels
    }

    var isEmpty: Bool { entries.isEmpty }

    mutating func add(_ field: String, _ message: String) {
        guard self[field] == nil else { return }
        if let label = labels[field], let first = message.first, first.isLowercase {
            entries.append((field, "\(label) \(message)"))
        } else {
            entries.append((field, message))
        }
    }

    subscript(_ field: String) -> String? {
        entries.first { $0.field == field }?.message
    }

    /// Runs a shared input check; its refusal becomes an error on `field` (or on the field it names).
    @discardableResult
    mutating func check<T>(_ field: String, _ body: () throws(ServiceError) -> T) -> T? {
        do {
            return try body()
        } catch {
            add(error, fallbackField: field)
            return nil
        }
    }

    /// Turns a service's `invalid_field` answer ("field: problem") into an error on that field.
    mutating func add(_ error: ServiceError, fallbackField: String) {
        if error.code == "invalid_field", let colon = error.message.firstIndex(of: ":") {
            let field = String(error.message[..<colon])
            add(field, String(error.message[error.message.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        } else {
            add(fallbackField, error.message)
        }
    }

    /// For the summary at the top: each message links to its field.
    var summary: [[String: String]] {
        entries.map { ["href": "#field-\($0.field)", "message": $0.message] }
    }
}

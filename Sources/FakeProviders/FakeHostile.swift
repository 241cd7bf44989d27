import Foundation

/// A hostile upstream, chosen by model name like every other behaviour, for the tests and the crash
/// fuzzer: token counts no real provider sends (`hostile-usage-<form>`), and `Retry-After` in any
/// form (`rate-limit-after-<text>`, or `rate-limit-after-httpdate` for a date two seconds ahead).
public enum FakeHostile {
    /// The usage counts a `hostile-usage-<form>` model reports, as raw JSON number text.
    public static let usageForms: [String: String] = [
        "max": "9223372036854775807", "2e64": "18446744073709551616", "1e300": "1e300", "1e400": "1e400",
        "negative": "-5", "fraction": "12.5", "string": "\"12\"", "nan": "NaN",
    ]

    /// The raw count every usage field of `model` reports, when the model asks for one.
    static func usageCount(model: String) -> FakeRawJSON? {
        guard let range = model.range(of: "hostile-usage-") else { return nil }
        let form = String(model[range.upperBound...].prefix { $0.isLetter || $0.isNumber })
        return usageForms[form].map(FakeRawJSON.init)
    }

    /// The `Retry-After` text of a `rate-limit-after-<text>` model: the rest of the name as sent.
    static func retryAfter(model: String) -> String? {
        guard let range = model.range(of: "rate-limit-after-") else { return nil }
        let text = String(model[range.upperBound...])
        guard text != "httpdate" else { return FakeHTTPDate.string(secondsFromNow: 2) }
        return text
    }
}

/// JSON text written as is, for numbers no Swift type holds.
struct FakeRawJSON: Sendable {
    let text: String
}

/// An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`), for `Retry-After` in date form.
enum FakeHTTPDate {
    static func string(secondsFromNow seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date().addingTimeInterval(seconds))
    }
}

/// The one rule for tokens nobody counted: about four characters of English per token, the usual rule of
/// thumb for GPT-style tokenizers. Budgets reserve on it before a call, and a record uses it when the
/// provider reported no usage (and says so).
package enum TokenEstimate {
    package static func tokens(bytes: Int) -> Int {
        bytes <= 0 ? 0 : TokenCount.bounded(bytes / 4 + (bytes % 4 == 0 ? 0 : 1))
    }
}

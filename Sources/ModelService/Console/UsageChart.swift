import Foundation
import ModelServiceCore

/// A bar chart drawn on the server as SVG: one bar per day, a `<title>` on each for hover text and
/// screen readers; the page shows the same numbers in a table below.
struct UsageChart {
    struct Bar {
        var label: String
        var value: Double
        var text: String
    }

    var title: String
    /// Counts (tokens) label the axis without decimals.
    var wholeNumbers = false
    var bars: [Bar]

    /// Every day from `from` up to `to` (exclusive), zero where nothing was used.
    static func days(fromMillis: Int64, toMillis: Int64, groups: [UsageReport.Group]) -> [(day: String, totals: UsageReport.Totals?)] {
        let byDay = Dictionary(groups.map { ($0.key, $0.totals) }, uniquingKeysWith: { first, _ in first })
        var result: [(day: String, totals: UsageReport.Totals?)] = []
        var day = fromMillis / 86_400_000
        while day * 86_400_000 < toMillis, result.count < 366 {
            let key = String(Clock.iso8601(millis: day * 86_400_000).prefix(10))
            result.append((day: key, totals: byDay[key]))
            day += 1
        }
        return result
    }

    func svg() -> String {
        let width = 720.0, height = 220.0, left = 56.0, bottom = 28.0, top = 12.0
        let plotHeight = height - bottom - top
        let maximum = max(bars.map(\.value).max() ?? 0, 0.000001)
        let slot = (width - left - 8) / Double(max(bars.count, 1))
        var out = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(Self.escape(title))\" "
            + "xmlns=\"http://www.w3.org/2000/svg\"><title>\(Self.escape(title))</title>"
        out += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width - 4)\" y2=\"\(top + plotHeight)\" stroke=\"#6b7280\"/>"
        out += "<text x=\"\(left - 6)\" y=\"\(top + 10)\" text-anchor=\"end\" font-size=\"11\" fill=\"#374151\">\(Self.escape(wholeNumbers ? String(Int(maximum.rounded())) : Self.short(maximum)))</text>"
        out += "<text x=\"\(left - 6)\" y=\"\(top + plotHeight)\" text-anchor=\"end\" font-size=\"11\" fill=\"#374151\">0</text>"
        let labelEvery = max(1, bars.count / 8)
        for (index, bar) in bars.enumerated() {
            let barHeight = max(bar.value > 0 ? 1 : 0, plotHeight * bar.value / maximum)
            let x = left + Double(index) * slot + slot * 0.15
            let y = top + plotHeight - barHeight
            out += "<rect class=\"bar\" x=\"\(Self.fixed(x))\" y=\"\(Self.fixed(y))\" width=\"\(Self.fixed(slot * 0.7))\" height=\"\(Self.fixed(barHeight))\">"
                + "<title>\(Self.escape(bar.label)): \(Self.escape(bar.text))</title></rect>"
            if index % labelEvery == 0 {
                out += "<text x=\"\(Self.fixed(x + slot * 0.35))\" y=\"\(height - 8)\" text-anchor=\"middle\" font-size=\"10\" fill=\"#374151\">"
                    + "\(Self.escape(String(bar.label.suffix(5))))</text>"
            }
        }
        return out + "</svg>"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func fixed(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func short(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.0f", value) : (value >= 1 ? String(format: "%.2f", value) : String(format: "%.4f", value))
    }
}

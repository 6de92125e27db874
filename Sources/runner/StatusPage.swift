import Engine
import Foundation

/// The page `backup run` serves at `/`: what `backup status` prints, as HTML, with why each failing job's
/// last run failed. Read-only (nothing on it is a form or a link that acts), self-contained (inline style,
/// no script, no asset from elsewhere), refreshed by the browser every 30 s. It shows job and destination
/// names, file names, sizes and times; never a setting, so no secret, connection string or key.
enum StatusPage {
    /// `failures`: the daemon's failing jobs with why; `failing`: their names.
    static func html(_ statuses: [JobStatus], failures: [String], failing: Set<String>, now: Date) -> String {
        let problems = statuses.filter(\.isProblem)
        let jobs = Set(statuses.map(\.job)).count
        let summary = problems.isEmpty && failures.isEmpty
            ? "All \(jobs) job\(jobs == 1 ? "" : "s") backed up as scheduled."
            : "\(problems.count) of \(statuses.count) not ok; \(failures.count) job\(failures.count == 1 ? "" : "s") "
                + "whose last run failed."
        let healthy = problems.isEmpty && failures.isEmpty
        var rows = ""
        for status in statuses {
            let cells = StatusCommand.cells(status, now: now).map { "<td>\(escape($0))</td>" }.joined()
            rows += "<tr class=\"\(status.isProblem ? "bad" : "ok")\" data-job=\"\(escape(status.job))\" "
                + "data-destination=\"\(escape(status.destination))\" data-state=\"\(status.state.rawValue)\">"
                + "\(cells)</tr>\n"
        }
        let notes = (failures.map { "last run failed: \($0)" } + StatusCommand.notes(statuses, known: failing))
            .map { "<li>\(escape($0))</li>" }.joined(separator: "\n")
        let header = StatusCommand.columns.map { "<th>\(escape($0))</th>" }.joined()
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="refresh" content="30">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>backup: \(escape(healthy ? "all ok" : "\(problems.count + failures.count) problem(s)"))</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1b1f24; background: #fff; }
            h1 { font-size: 20px; margin: 0 0 0.5em; }
            .summary { padding: 0.6em 0.9em; border-radius: 4px; font-weight: 600; }
            .summary.ok { background: #dafbe1; color: #116329; }
            .summary.bad { background: #ffebe9; color: #a40e26; }
            table { border-collapse: collapse; margin: 1em 0; }
            th, td { text-align: left; padding: 0.35em 0.8em; border-bottom: 1px solid #d0d7de; white-space: nowrap; }
            th { font-size: 12px; color: #57606a; }
            tr.bad td:last-child { color: #a40e26; font-weight: 600; }
            tr.ok td:last-child { color: #116329; }
            ul.notes { color: #a40e26; }
            footer { color: #57606a; font-size: 12px; }
            </style>
            </head>
            <body>
            <h1>PostgreSQL backups</h1>
            <p class="summary \(healthy ? "ok" : "bad")">\(escape(summary))</p>
            <table>
            <thead><tr>\(header)</tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>
            <ul class="notes">
            \(notes)
            </ul>
            <footer>backup \(escape(BuildInfo.version)) (\(escape(BuildInfo.commit))) · as of \
            \(escape(Timestamp.iso8601(now))) · this page refreshes every 30 s and changes nothing</footer>
            </body>
            </html>

            """
    }

    /// `text` with the five characters HTML gives meaning to written as references.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

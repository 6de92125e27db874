import AsyncHTTPClient
import Engine
import Foundation
import Logging
import NIOCore

/// `backup now`'s metrics, for where no daemon is scraped (a CronJob): the same gauges `backup run` serves,
/// one set per job, made from what the stores held before the run and what the run did. Pushed to a
/// Prometheus Pushgateway (`metrics.pushgateway`), one group per job (PUT, so each push replaces that job's
/// last), and/or written to a node-exporter textfile (`metrics.textfile`), replaced atomically.
struct RunMetrics {
    let statuses: [String: DaemonStatus]
    let jobNames: [String]

    /// Each job's gauges, with what its destinations hold now (its newest backup, sizes, verification).
    static func reading(_ jobs: [Job], now: Date = Date()) async -> RunMetrics {
        var statuses: [String: DaemonStatus] = [:]
        let tools = await BuildInfo.tools()
        for job in jobs {
            let status = DaemonStatus(jobs: [job], tools: tools)
            let stored = JobStatus.of(job, catalog: await JobCatalog.build(job), now: now, grace: job.statusGrace)
            status.stored(job.name, statuses: stored)
            statuses[job.name] = status
        }
        return RunMetrics(statuses: statuses, jobNames: jobs.map(\.name))
    }

    func record(_ event: JobEvent) { statuses[event.job]?.record(event) }

    /// The Prometheus text of `job`'s metrics.
    func text(of job: String) -> [UInt8] { statuses[job]?.registry.emitToBuffer() ?? [] }

    /// PUTs each job's metrics to `gateway` as the group `job=<name>` (the name base64url-encoded, so any
    /// name is a valid path). A failed push is logged, and fails nothing else.
    func push(to gateway: String, logger: Logger) async {
        let base = gateway.hasSuffix("/") ? String(gateway.dropLast()) : gateway
        // Where it goes, for messages: without a user or password the URL may carry.
        var shown = URLComponents(string: base)
        shown?.user = nil
        shown?.password = nil
        let place = shown?.string ?? "the Pushgateway"
        for job in jobNames {
            let encoded = Data(job.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            var request = HTTPClientRequest(url: "\(base)/metrics/job@base64/\(encoded)")
            request.method = .PUT
            request.headers.add(name: "Content-Type", value: "text/plain; version=0.0.4")
            request.body = .bytes(ByteBuffer(bytes: text(of: job)))
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                guard (200..<300).contains(response.status.code) else {
                    let message = "could not push the metrics of job \(job) to \(place) (metrics.pushgateway): "
                        + "HTTP \(response.status.code)"
                    logger.error("\(message)")
                    continue
                }
            } catch {
                logger.error("could not push the metrics of job \(job) to \(place) (metrics.pushgateway): \(error)")
            }
        }
    }

    /// Writes every job's metrics to `path` for node-exporter's textfile collector: a temporary file beside
    /// it (mode 0640), then renamed over it, so the collector never reads half a file.
    func write(to path: String, logger: Logger) {
        var bytes: [UInt8] = []
        for job in jobNames { bytes += text(of: job) }
        let temporary = "\(path).\(getpid()).tmp"
        do {
            guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes),
                                                 attributes: [.posixPermissions: 0o640]) else {
                throw CocoaError(.fileWriteUnknown)
            }
            guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            unlink(temporary)
            logger.error("could not write the metrics to \(path) (metrics.textfile): \(error)")
        }
    }
}

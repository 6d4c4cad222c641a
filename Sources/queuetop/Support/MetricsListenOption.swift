import Foundation
import Logging
import QueuetopMetrics

/// `--metrics-listen` (worker) and `--listen` (exporter): parsing the address and starting the
/// endpoint, with errors as one `Error: …` line naming the option.
enum MetricsListenOption {
    static func parse(_ text: String, option: String) throws -> ListenAddress {
        do {
            return try ListenAddress(parsing: text)
        } catch {
            throw CLIError("\(option) \(error.description)")
        }
    }

    /// Starts serving `GET /metrics` and logs where (with the real port when 0 was asked for).
    static func serve(_ text: String, option: String, log: Logger,
                      render: @escaping @Sendable () async -> String) throws -> MetricsEndpoint {
        let address = try parse(text, option: option)
        let endpoint: MetricsEndpoint
        do {
            endpoint = try MetricsEndpoint.start(listen: address, render: render)
        } catch {
            throw CLIError("\(option): \(error)")
        }
        log.info("metrics at http://\(endpoint.address)/metrics")
        return endpoint
    }
}

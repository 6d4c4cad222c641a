import ArgumentParser
import Foundation
import Logging
import QueuetopLogging

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}

/// `--log-level` and `--log-format`, shared by every command that logs (worker, dash's embedded
/// pool, demo, exporter). Text is the default in every case, on a terminal or not: a log
/// pipeline asks for `--log-format json` (or logfmt) explicitly, and a person reading a
/// redirected file still gets the lines they know (docs/OBSERVABILITY.md).
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Lowest level logged: trace, debug, info, notice, warning, error, critical.",
                                            valueName: "level"))
    var logLevel: Logger.Level = .info

    @Option(name: .long, help: ArgumentHelp("Log line format: text, logfmt or json (one event per line).", valueName: "format"))
    var logFormat: LogFormat = .text

    /// A logger writing to `handle` (nil: nowhere) and to `extra` destinations.
    func logger(_ label: String, to handle: FileHandle?, also extra: [any LogDestination] = []) -> Logger {
        let writers: [any LogDestination] = handle.map { [LineWriter($0, format: logFormat)] } ?? []
        return .queuetop(label, level: logLevel, to: writers + extra)
    }
}

import ArgumentParser
import Foundation
import Postgres

/// queuetop: the operations console and worker runtime for job queues that live in PostgreSQL.
@main
struct Queuetop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queuetop",
        abstract: "Operations console and worker runtime for job queues that live in PostgreSQL.",
        discussion: HelpText.reflow("""
            Connects to --db, else DATABASE_URL, else libpq's defaults (PG* variables, ~/.pgpass);
            or --context NAME from the contexts file (docs/SCALING.md): reads from its replica
            when it has one, writes to its primary.
            Both a postgres:// URI and a 'host=… dbname=…' string work; sslmode is honoured.
            """),
        subcommands: [
            DashCommand.self,
            MigrateCommand.self,
            SQLCommand.self,
            WorkerCommand.self,
            WorkersCommand.self,
            ExporterCommand.self,
            StatusCommand.self,
            EnqueueCommand.self,
            JobsCommand.self,
            JobCommand.self,
            DLQCommand.self,
            QueueCommand.self,
            LeadsCommand.self,
            DemoCommand.self,
            ScheduleCommand.self,
            AlertsCommand.self,
            MarkCommand.self,
            TimelineCommand.self,
            ContextsCommand.self,
        ],
        // `queuetop` alone opens the dashboard, as an operator expects of a *top.
        defaultSubcommand: DashCommand.self
    )

    // Declared here too so that `queuetop --db URL migrate` (options before the subcommand)
    // parses; subcommands read the same values through their own ConnectionOptions.
    @OptionGroup var connection: ConnectionOptions

    /// Copies the arguments, then masks any password in the process's argv so `ps` cannot show
    /// it (ArgvPasswordMask), then runs the command with the unmasked copy. Errors, usage and
    /// help are printed as ArgumentParser would, but through `SafeText`: an error message may
    /// quote a server's or a handler's text.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        ArgvPasswordMask.apply()
        // Every command stops on SIGTERM/SIGINT/SIGHUP (the default action, or the worker's and
        // the dashboard's own handlers), even when a parent started us with them blocked: a
        // supervisor's `status --watch` must end when it is told to.
        unblockSignals([SIGTERM, SIGINT, SIGHUP])
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let text = fullMessage(for: error)
            if !text.isEmpty {
                if code == .success { print(text) } else { printError(text) }
            }
            Foundation.exit(code.rawValue)
        }
    }
}

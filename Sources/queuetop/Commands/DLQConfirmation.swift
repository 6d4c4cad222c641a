import Foundation
import Postgres

/// Destructive and bulk commands (dlq requeue/delete, leads move) ask on a terminal; without one
/// they refuse unless --yes, so a script never deletes, requeues or moves thousands of rows by
/// accident.
func confirmDestructiveAction(_ question: String, yes: Bool) throws {
    if yes { return }
    guard isatty(STDIN_FILENO) == 1 else {
        throw CLIError("\(question) Refusing without a terminal to confirm on; pass --yes to proceed.")
    }
    FileHandle.standardError.write(Data("\(SafeText.oneLine(question)) [y/N] ".utf8))
    let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
    guard answer == "y" || answer == "yes" else { throw CLIError("cancelled; nothing changed") }
}

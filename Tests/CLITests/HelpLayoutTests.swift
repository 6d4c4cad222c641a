import Foundation
import TestSupport
import Testing

/// `--help` of every command, as read in an 80-column terminal over SSH. swift-argument-parser
/// keeps each newline of a discussion and wraps each line by itself, so prose written at the
/// source's width came out as a full line and a stub per source line ("Runs the worker pool in
/// the same process unless --no-workers or read-only" / "(worker options as for" / "`queuetop
/// worker`; …"): found walking the CLI. Sources/queuetop/Support/HelpText.swift reflows them.
@Suite struct HelpLayoutTests {
    /// Every command path, found by reading each help's SUBCOMMANDS section.
    static func commandPaths() throws -> [[String]] {
        var paths: [[String]] = [[]]
        var queue: [[String]] = [[]]
        while let path = queue.first {
            queue.removeFirst()
            let help = try QueuetopBinary.run(path + ["--help"], timeout: 30).stdout
            guard let section = help.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { continue }
            for line in section.split(separator: "\n") where line.hasPrefix("  ") && !line.hasPrefix("   ") {
                // "  name   what it does": a lower-case word; not "  See 'queuetop help …'".
                guard let name = line.split(separator: " ").first.map(String.init),
                      name.allSatisfy({ ("a"..."z").contains($0) || $0 == "-" }), name != "help" else { continue }
                paths.append(path + [name]); queue.append(path + [name])
            }
        }
        return paths
    }

    /// A line break the wrapper did not make: the next line's first word would have fit on this
    /// line. Indented lines (examples, JSON shapes) and the lines around them are laid out on
    /// purpose and are left alone.
    static func raggedBreaks(_ help: String, width: Int = 80) -> [String] {
        let prose = help.components(separatedBy: "USAGE:")[0]
        let lines = prose.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var found: [String] = []
        for (line, next) in zip(lines, lines.dropFirst()) {
            guard !line.isEmpty, !next.isEmpty, line.first != " ", next.first != " ",
                  !line.hasPrefix("OVERVIEW:") else { continue }
            let firstWord = next.split(separator: " ").first.map(String.init) ?? next
            // The parser keeps a wrapped line under the width (at most 79 of 80 columns).
            if line.count + 1 + firstWord.count < width { found.append("\(line) ⏎ \(next)") }
        }
        return found
    }

    @Test func everyHelpReadsAsParagraphsAt80Columns() throws {
        let paths = try Self.commandPaths()
        #expect(paths.count > 40, "found the subcommands: \(paths.count)")
        for path in paths {
            let r = try QueuetopBinary.run(path + ["--help"], environment: ["COLUMNS": "80"], timeout: 30)
            #expect(r.status == 0)
            let ragged = Self.raggedBreaks(r.stdout)
            #expect(ragged.isEmpty, "queuetop \(path.joined(separator: " ")) --help: \(ragged)")
            // The prose only: the parser prints USAGE lines unwrapped, whatever their length.
            let wide = r.stdout.components(separatedBy: "USAGE:")[0].split(separator: "\n").filter { $0.count > 80 }
            #expect(wide.isEmpty, "queuetop \(path.joined(separator: " ")) --help has lines wider than 80: \(wide)")
        }
    }

    @Test func theDetectorFindsAStubLine() {
        #expect(Self.raggedBreaks("Runs the pool unless --no-workers (worker options as for\n`queuetop worker`).\n").count == 1)
        #expect(Self.raggedBreaks("Examples:\n  queuetop schedule list\n").isEmpty)
    }
}

import Foundation
import Testing

/// Package.swift is the architecture's one picture (which module may use which): a module that
/// imports another it does not declare builds only by luck of the build order, and the picture
/// lies. This reads each target's imports and holds Package.swift to them.
@Suite struct PackageEdgesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// target name -> the package's own targets it lists as dependencies.
    static func declared() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let flat = manifest.replacingOccurrences(of: "\n", with: " ")
        let target = try NSRegularExpression(
            pattern: #"\.(?:target|testTarget|executableTarget|systemLibrary)\(\s*name:\s*"([^"]+)"(.*?)\)\s*,\s*(?=(?:\.|//|\]))"#)
        var result: [String: Set<String>] = [:]
        for m in target.matches(in: flat, range: NSRange(flat.startIndex..., in: flat)) {
            let name = String(flat[Range(m.range(at: 1), in: flat)!])
            let rest = String(flat[Range(m.range(at: 2), in: flat)!])
            var deps: Set<String> = []
            if let open = rest.range(of: "dependencies: [") {
                let list = rest[open.upperBound...].prefix { $0 != "]" }
                let quoted = try NSRegularExpression(pattern: #"^\s*"([A-Za-z]+)""#)
                for item in list.split(separator: ",") {
                    let s = String(item)
                    if let q = quoted.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) {
                        deps.insert(String(s[Range(q.range(at: 1), in: s)!]))
                    }
                }
            }
            result[name] = deps
        }
        return result
    }

    static func imports(of folder: URL) -> Set<String> {
        let importLine = try! NSRegularExpression(pattern: #"^(?:@testable |@_exported |public |internal )*import ([A-Za-z_]+)"#,
                                                 options: [.anchorsMatchLines])
        var found: Set<String> = []
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard url.pathExtension == "swift", let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            for m in importLine.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                found.insert(String(text[Range(m.range(at: 1), in: text)!]))
            }
        }
        return found
    }

    @Test func everyImportOfAnOwnModuleIsDeclared() throws {
        let declared = try Self.declared()
        let own = Set(declared.keys)
        #expect(own.contains("Postgres") && own.contains("TerminalUI"), "Package.swift was read: \(own.sorted())")
        for (name, deps) in declared {
            let folder = Self.root.appendingPathComponent(name.hasSuffix("Tests") ? "Tests/\(name)" : "Sources/\(name)")
            let used = Self.imports(of: folder).intersection(own).subtracting([name])
            let undeclared = used.subtracting(deps)
            #expect(undeclared.isEmpty, "\(name) imports \(undeclared.sorted()) without declaring it in Package.swift")
        }
    }
}

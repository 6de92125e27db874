import Foundation
import Testing
import TestSupport

/// The plugin boundary, checked on the source tree: the engine names no plugin, and no plugin reaches
/// into another (SwiftPM can let an undeclared import of a module that happens to be built compile).
@Suite struct ArchitectureTests {
    static let plugins = "\(Paths.root)/Sources/Plugins"
    /// Folders under Sources/Plugins that are not plugins.
    static let shared: Set<String> = ["BuiltinPlugins", "PluginSupport"]

    static func swiftFiles(under directory: String) throws -> [String] {
        let enumerator = try #require(FileManager.default.enumerator(atPath: directory))
        return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.map { "\(directory)/\($0)" }
    }

    static var pluginFolders: [String] {
        get throws {
            try FileManager.default.contentsOfDirectory(atPath: plugins).filter { !shared.contains($0) && !$0.hasPrefix(".") }.sorted()
        }
    }

    /// Built-in plugins' names and the tools and libraries they wrap, as words in any case; `none`,
    /// `local`, `age` and `expire` are English words too, so for them only string literals and type names count.
    @Test func theEngineNamesNoPlugin() throws {
        let patterns = [#"(?i)gzip|zstd|postgres|pg_dump|pg_restore|psql|libpq|zlib|libdeflate|\bs3\b|aws|amazon|sigv4|multipart|scrypt|x25519|chacha|bech32"#,
                        #""(?i:none|local|age|expire)""#, #"\b(None|Local|Age|Expire)[A-Z]\w*"#]
        var found: [String] = []
        for file in try Self.swiftFiles(under: "\(Paths.root)/Sources/Engine") {
            for (number, line) in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if patterns.contains(where: { line.range(of: $0, options: .regularExpression) != nil }) {
                    found.append("\(file.dropFirst(Paths.root.count + 1)):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(found.isEmpty, "plugin names in the engine:\n\(found.joined(separator: "\n"))")
    }

    @Test func everyPluginFolderIsATargetThatDependsOnNoOtherPlugin() throws {
        let manifest = try String(contentsOfFile: "\(Paths.root)/Package.swift", encoding: .utf8)
        let folders = try Self.pluginFolders
        #expect(folders.count >= 11)
        let listed = try #require(manifest.range(of: #"let builtinPlugins = \[[^\]]*\]"#, options: .regularExpression))
        for folder in folders {
            // The call up to the next target, however many lines it takes.
            let call = try #require(manifest.range(of: #"plugin\("\#(folder)"(.|\n)*?(?=\n        (plugin\(|\.|//))"#, options: .regularExpression),
                                    "Package.swift has no plugin(\"\(folder)\") target")
            let others = folders.filter { $0 != folder && manifest[call].contains("\"\($0)\"") }
            #expect(others.isEmpty, "\(folder)'s target depends on \(others)")
            #expect(manifest[listed].contains("\"\(folder)\""), "\(folder) is missing from builtinPlugins")
        }
    }

    @Test func noPluginImportsAnotherPlugin() throws {
        let folders = try Self.pluginFolders
        var found: [String] = []
        for folder in folders {
            for file in try Self.swiftFiles(under: "\(Self.plugins)/\(folder)") {
                for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
                    // `import X`, also `@testable`, `@preconcurrency`, `@_exported`, `public`, `import struct X.Y`.
                    guard let match = line.firstMatch(of: /^\s*(@\w+\s+)*((public|package|internal)\s+)?import\s+((struct|class|enum|protocol|func|var|let|typealias)\s+)?(\w+)/) else { continue }
                    let module = String(match.output.6)
                    if module != folder && folders.contains(module) { found.append("\(folder)/\(URL(fileURLWithPath: file).lastPathComponent) imports \(module)") }
                }
            }
        }
        #expect(found.isEmpty, "\(found)")
    }
}

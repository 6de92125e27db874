import Engine
import Foundation
import Testing

@Suite("ConfigDocument.parse")
struct ConfigDocumentTests {
    private func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigError) -> ConfigDocument {
        try ConfigDocument.parse(text, file: "backup.conf", environment: environment)
    }

    private func value(_ line: String, environment: [String: String] = [:]) throws -> String {
        let document = try parse("k = \(line)", environment: environment)
        return try #require(document.defaults.first).value
    }

    @Test("comments and blank lines are skipped; entries keep their line numbers")
    func commentsAndBlankLines() throws {
        let document = try parse("""
            # a comment

               # an indented comment
            source = fake
            \t
            compressor=fz
            """)
        #expect(document.defaults == [
            ConfigEntry(key: "source", value: "fake", file: "backup.conf", line: 4),
            ConfigEntry(key: "compressor", value: "fz", file: "backup.conf", line: 6),
        ])
        #expect(document.sections.isEmpty)
    }

    @Test("unquoted values", arguments: [
        ("plain", "plain"),
        ("gzip            # gzip | zstd | none", "gzip"),
        ("pa#ss", "pa#ss"),
        ("pa#ss # comment", "pa#ss"),
        ("two words  ", "two words"),
        ("a=b=c", "a=b=c"),
        ("", ""),
        ("# only a comment", ""),
    ])
    func unquoted(line: String, expected: String) throws {
        #expect(try value(line) == expected)
    }

    @Test("double-quoted values keep spaces and '#', honour escapes and expand variables", arguments: [
        (#""  spaced # not a comment  ""#, "  spaced # not a comment  "),
        (#""say \"hi\"""#, #"say "hi""#),
        (#""back\\slash""#, #"back\slash"#),
        (#""${USER_NAME}-x"  # trailing comment"#, "alice-x"),
        (#""""#, ""),
    ])
    func doubleQuoted(line: String, expected: String) throws {
        #expect(try value(line, environment: ["USER_NAME": "alice"]) == expected)
    }

    @Test("single-quoted values are literal: no escapes, no ${} expansion", arguments: [
        ("'${USER_NAME}'", "${USER_NAME}"),
        (#"'back\slash'"#, #"back\slash"#),
        ("'a \"b\" # c'  # comment", "a \"b\" # c"),
    ])
    func singleQuoted(line: String, expected: String) throws {
        #expect(try value(line, environment: ["USER_NAME": "alice"]) == expected)
    }

    @Test("environment expansion", arguments: [
        ("${PW}", ["PW": "s3cret"], "s3cret"),
        ("pre-${PW}-post", ["PW": "s3cret"], "pre-s3cret-post"),
        ("${A}${B}", ["A": "1", "B": "2"], "12"),
        ("${PW:-fallback}", ["PW": "s3cret"], "s3cret"),
        ("${PW:-fallback}", [:], "fallback"),
        ("${PW:-fallback}", ["PW": ""], "fallback"),
        ("${PW:-}", [:], ""),
        ("${PW}", ["PW": ""], ""),
        ("${PW}", ["PW": "has # hash"], "has # hash"),
        // A default may name another variable, as in sh; the inner one is expanded only when used.
        ("${X:-${HOME}}", ["HOME": "/home/a"], "/home/a"),
        ("${X:-${HOME}}", ["X": "x", "HOME": "/home/a"], "x"),
        ("${X:-pre-${Y:-${Z}}-post}", ["Z": "z"], "pre-z-post"),
        ("${X:-${HOME}}/more}", ["HOME": "/h"], "/h/more}"),
    ] as [(String, [String: String], String)])
    func expansion(_ example: (line: String, environment: [String: String], expected: String)) throws {
        #expect(try value(example.line, environment: example.environment) == example.expected)
    }

    @Test func jobsDifferingOnlyInCaseAreRefused() {
        #expect(throws: ConfigError.self) { try parse("[app]\nfake.database = a\n[App]\nfake.database = b\n") }
        do {
            _ = try parse("[app]\nfake.database = a\n[App]\nfake.database = b\n")
        } catch {
            #expect(error.line == 3 && error.message.contains("differ only in case"), "\(error)")
        }
    }

    @Test("defaults come before the first section; each [job] collects its own entries")
    func sections() throws {
        let document = try parse("""
            compressor = fz
            fake.user = backup

            [app]  # the main database
            fake.database = app
            compressor = raw
            [ reports ]
            fake.database = reports
            [empty]
            """)
        #expect(document.defaults.map(\.key) == ["compressor", "fake.user"])
        #expect(document.sections.map(\.name) == ["app", "reports", "empty"])
        #expect(document.sections.map(\.line) == [4, 7, 9])
        #expect(document.sections[0].entries.map(\.key) == ["fake.database", "compressor"])
        #expect(document.sections[0].entries.map(\.line) == [5, 6])
        #expect(document.sections[1].entries.map(\.value) == ["reports"])
        #expect(document.sections[2].entries.isEmpty)
    }

    @Test("the same key may appear once in the defaults and once in each section")
    func sameKeyInDifferentSections() throws {
        let document = try parse("k = 0\n[a]\nk = 1\n[b]\nk = 2")
        #expect(document.defaults.map(\.value) == ["0"])
        #expect(document.sections.map { $0.entries.map(\.value) } == [["1"], ["2"]])
    }

    @Test("lines may end in CRLF, as files edited on Windows do")
    func crlfLineEndings() throws {
        let document = try parse("a = 1\r\nb = two words # c\r\n[job]\r\nc = 3\r\n")
        #expect(document.defaults.map(\.value) == ["1", "two words"])
        #expect(document.defaults.map(\.line) == [1, 2])
        #expect(document.sections.map(\.name) == ["job"])
        #expect(document.sections.first?.entries.map(\.value) == ["3"])
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        var what: String
        var text: String
        var line: Int
        var key: String?
        var fragments: [String]
        var testDescription: String { what }
    }

    static let badInputs: [BadInput] = [
        BadInput(what: "unset variable", text: "a = 1\npostgres.password = ${POSTGRESQL_PASSWORD}", line: 2,
                 key: "postgres.password", fragments: ["POSTGRESQL_PASSWORD", "not set"]),
        BadInput(what: "unset variable in double quotes", text: "k = \"x${NOPE}\"", line: 1, key: "k",
                 fragments: ["NOPE"]),
        BadInput(what: "unclosed ${", text: "k = ${HOME", line: 1, key: "k", fragments: ["'${'", "'}'"]),
        BadInput(what: "empty variable name", text: "k = ${}", line: 1, key: "k", fragments: ["not a variable name"]),
        BadInput(what: "bad variable name", text: "k = ${A-B}", line: 1, key: "k", fragments: ["not a variable name"]),
        BadInput(what: "unclosed double quote", text: "\nk = \"abc", line: 2, key: "k", fragments: ["closing \""]),
        BadInput(what: "unclosed single quote", text: "k = 'abc", line: 1, key: "k", fragments: ["closing '"]),
        BadInput(what: "escaped closing quote does not close", text: #"k = "abc\""#, line: 1, key: "k",
                 fragments: ["closing"]),
        BadInput(what: "text after closing quote", text: "k = \"abc\" def", line: 1, key: "k",
                 fragments: ["after the closing quote"]),
        BadInput(what: "missing =", text: "a = 1\njust some words", line: 2, key: nil, fragments: ["key = value"]),
        BadInput(what: "empty key", text: "= value", line: 1, key: nil, fragments: ["a key is made of"]),
        BadInput(what: "bad key characters", text: "gzip-level = 6", line: 1, key: "gzip-level",
                 fragments: ["letters, digits"]),
        BadInput(what: "space inside key", text: "gzip level = 6", line: 1, key: "gzip level",
                 fragments: ["letters, digits"]),
        BadInput(what: "duplicate key in defaults", text: "a = 1\n\nb = 2\na = 3", line: 4, key: "a",
                 fragments: ["first at line 1"]),
        BadInput(what: "duplicate key in a section", text: "a = 1\n[job]\na = 2\nb = 1\na = 3", line: 5, key: "a",
                 fragments: ["first at line 3"]),
        BadInput(what: "duplicate section", text: "[app]\na = 1\n[other]\n[app]", line: 4, key: nil,
                 fragments: ["[app]", "line 1"]),
        BadInput(what: "bad section name", text: "[my job]", line: 1, key: nil, fragments: ["my job", "letters"]),
        BadInput(what: "section name with a slash", text: "[../etc]", line: 1, key: nil, fragments: ["../etc"]),
        BadInput(what: "empty section name", text: "[]", line: 1, key: nil, fragments: ["job name"]),
        BadInput(what: "missing ]", text: "a = 1\n[app", line: 2, key: nil, fragments: ["closing ']'"]),
        BadInput(what: "text after ]", text: "[app] extra", line: 1, key: nil, fragments: ["after [app]"]),
    ]

    @Test("every syntax error names file:line, the key and what is wrong", arguments: badInputs)
    func errors(_ input: BadInput) throws {
        let error = try #require(throws: ConfigError.self) {
            try ConfigDocument.parse(input.text, file: "/etc/backup.conf", environment: [:])
        }
        #expect(error.file == "/etc/backup.conf")
        #expect(error.line == input.line)
        #expect(error.key == input.key)
        #expect(error.description.hasPrefix("/etc/backup.conf:\(input.line): "))
        if let key = input.key { #expect(error.description.contains(key)) }
        for fragment in input.fragments {
            #expect(error.description.contains(fragment), "\(error.description) should mention \(fragment)")
        }
    }

    @Test("ConfigError.description formats", arguments: [
        (ConfigError(file: "f.conf", line: 3, key: "k", message: "bad"), "f.conf:3: k: bad"),
        (ConfigError(file: "f.conf", line: nil, key: "k", message: "bad"), "f.conf: k: bad"),
        (ConfigError(file: "f.conf", line: 7, key: nil, message: "bad"), "f.conf:7: bad"),
    ])
    func errorDescription(error: ConfigError, expected: String) {
        #expect(error.description == expected)
    }

    /// Defaults nest as in sh, up to 8 deep; deeper is refused at once, as is the line scripts/fuzz found
    /// (Tests/Fixtures/fuzz/config-*), which made the parser scan the line once per level.
    @Test("${VAR:-default} nests up to 8 deep and no deeper")
    func nestingIsBounded() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "${UNSET:-", count: depth) + "x" + String(repeating: "}", count: depth)
        }
        let eight = try parse("postgres.host = \(nested(8))\n")
        #expect(eight.defaults.first?.value == "x")
        for depth in [9, 2_000] {
            #expect(throws: ConfigError.self) { try parse("postgres.host = \(nested(depth))\n") }
        }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/fuzz").standardizedFileURL
        let found = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasPrefix("config-") }
        #expect(!found.isEmpty)
        for name in found {
            let text = String(decoding: try Data(contentsOf: fixtures.appendingPathComponent(name)), as: UTF8.self)
            #expect(throws: ConfigError.self) { try ConfigDocument.parse(text, file: name, environment: ["EMPTY": ""]) }
        }
    }
}

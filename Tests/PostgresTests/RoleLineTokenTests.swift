@testable import Postgres
import Testing

/// The scanner of version 1 sidecars' role lines (pg_dumpall's words).
@Suite struct RoleLineTokenTests {
    @Test func anEStringIsALiteralWithItsBackslashesUndoubled() throws {
        #expect(try RoleLineToken.scan(#"SET x TO E'a\\b';"#)
                == [.word("SET"), .word("x"), .word("TO"), .literal(#"a\b"#), .semicolon])
        #expect(try RoleLineToken.scan(#"SET x TO e'a\\b';"#).contains(.literal(#"a\b"#)))
    }

    /// A word that starts with E or e and is not followed by a quote is a word (the E'' rule once applied
    /// to every upper-case E).
    @Test func aWordStartingWithEIsAWord() throws {
        #expect(try RoleLineToken.scan("ALTER ROLE emma WITH ENCRYPTED;")
                == [.word("ALTER"), .word("ROLE"), .word("emma"), .word("WITH"), .word("ENCRYPTED"), .semicolon])
    }
}

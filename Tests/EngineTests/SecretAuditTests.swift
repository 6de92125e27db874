@testable import Engine
import Foundation
import Testing

/// Secrets left where every user of the machine can read them are named, with the fix; secrets kept
/// properly (a private file, a `${VAR}`, a private config file) raise nothing.
@Suite struct SecretAuditTests {
    static let text = """
        fake.user = app
        fake.password = hunter2
        [a]
        fake.database = a
        fake.password_file = /secrets/open
        [b]
        fake.database = b
        fake.password_file = /secrets/closed
        [c]
        fake.database = c
        fake.password = ${PW}
        fake.cert_file = /secrets/open
        [d]
        fake.database = d
        fake.password = ${PW2:-hunter3}
        [e]
        fake.database = e
        fake.password = ${PW2:-${PW}}
        [f]
        fake.database = f
        verify.secret = hunter4
        [g]
        fake.database = g
        verify.secret_file = /secrets/open
        """

    static func warnings(configMode: UInt32) throws -> [String] {
        let document = try ConfigDocument.parse(text, file: "/etc/backup.conf", environment: ["PW": "x"])
        let modes: [String: UInt32] = ["/etc/backup.conf": configMode, "/secrets/open": 0o644, "/secrets/closed": 0o440]
        return SecretAudit.warnings(document, text: text, loader: JobLoader(registry: .test), mode: { modes[$0] })
    }

    @Test func worldReadableSecretsAreNamed() throws {
        let found = try Self.warnings(configMode: 0o644)
        #expect(found == [
            "/etc/backup.conf:2: fake.password is written out in a file every user of this machine can read (mode 0644); use fake.password_file or ${VAR}, or chmod 600 /etc/backup.conf",
            "/secrets/open (fake.password_file, /etc/backup.conf:5) is readable by every user of this machine (mode 0644); chmod 600 it, or mount the Secret with defaultMode 0400",
            "/etc/backup.conf:15: fake.password is written out in a file every user of this machine can read (mode 0644); use fake.password_file or ${VAR}, or chmod 600 /etc/backup.conf",
            // A secret under the name an earlier release gave it is a secret as well.
            "/etc/backup.conf:21: verify.secret is written out in a file every user of this machine can read (mode 0644); use verify.secret_file or ${VAR}, or chmod 600 /etc/backup.conf",
            "/secrets/open (verify.secret_file, /etc/backup.conf:24) is readable by every user of this machine (mode 0644); chmod 600 it, or mount the Secret with defaultMode 0400",
        ])
        #expect(found.allSatisfy { !$0.contains("hunter2") && !$0.contains("hunter3") && !$0.contains("hunter4") })
    }

    @Test func privateConfigFilesRaiseOnlyTheOpenSecretFiles() throws {
        let found = try Self.warnings(configMode: 0o600)
        #expect(found.count == 2 && found[0].hasPrefix("/secrets/open (fake.password_file")
                && found[1].hasPrefix("/secrets/open (verify.secret_file"), "\(found)")
    }
}

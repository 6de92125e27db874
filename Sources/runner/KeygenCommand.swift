import Age
import ArgumentParser
import Engine
import Foundation

/// `backup keygen`: a new age identity and its recipient, as age-keygen makes them, so an operator needs no
/// other tool to set up encrypted backups.
struct KeygenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an age key pair for encrypted backups: the identity (secret, for restores) and its recipient "
            + "(public, for age.recipients).",
        discussion: """
            Writes the identity, with its recipient in a comment, to stdout or --output (created, never replaced, \
            readable by its owner only), and the recipient to stderr. The backup pod needs only the recipient; \
            keep the identity where restores run (e.g. a Secret mounted only into a restore Job).

            Examples:
              backup keygen -o restore-key.txt
              backup keygen -y restore-key.txt
            """)

    @Option(name: [.short, .long], help: "Write the identity to this new file (mode 0600) instead of stdout.")
    var output: String?

    @Option(name: [.customShort("y"), .long],
            help: "Print the recipients of the identities in this file instead of making a new one.")
    var recipientsOf: String?

    func run() async throws {
        try await reportingFailures {
            if let recipientsOf {
                guard let data = FileManager.default.contents(atPath: recipientsOf) else {
                    throw Failure(message: "cannot read \(recipientsOf); check the path", exitCode: 1)
                }
                do {
                    let identities = String(decoding: data, as: UTF8.self)
                    for recipient in try AgeKeys.recipients(ofIdentities: identities) { print(recipient) }
                } catch {
                    throw Failure(message: "\(recipientsOf): \(error)", exitCode: 1)
                }
                return
            }
            let (identity, recipient) = AgeKeys.generate()
            let text = "# created: \(Timestamp.iso8601(Date()))\n# public key: \(recipient)\n\(identity)\n"
            if let output {
                let descriptor = open(output, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard descriptor >= 0 else {
                    let reason = errno == EEXIST
                        ? "it exists; keygen never replaces a key" : String(cString: strerror(errno))
                    throw Failure(message: "cannot create \(output): \(reason)", exitCode: 1)
                }
                let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
                do {
                    try handle.write(contentsOf: Data(text.utf8))
                    try handle.synchronize()
                } catch {
                    unlink(output)
                    throw Failure(message: "cannot write \(output): \(error)", exitCode: 1)
                }
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
            FileHandle.standardError.write(Data("Public key: \(recipient)\n".utf8))
        }
    }
}

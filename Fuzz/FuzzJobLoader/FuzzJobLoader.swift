import BuiltinPlugins
import Engine

/// The configuration as `backup` reads it: the document parser with `${VAR}`, then the job loader with the
/// `_file` rule, aliases, defaults, value checks and every built-in plugin's factory, against a fixed
/// environment and fixed files for `_file` keys. (The plugins still see this process's environment, e.g.
/// S3's `AWS_*`, and S3 checks that `s3.ca_file` is readable; the runner's own keys, `parallel` or
/// `log.format`, are unknown here.) A load returns jobs or a ConfigError whose printed form is one line;
/// the same text loads to the same jobs; and the contents of a secret-looking file that only secret keys
/// name appear in no error and in no job's printed settings, unless the text spells them out itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJobLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let document: ConfigDocument
    do {
        document = try ConfigDocument.parse(text, file: "fuzz.conf", environment: environment)
    } catch {
        return 0
    }
    let first = load(document)
    let again = load(document)
    switch (first, again) {
    case (.success(let jobs), .success(let other)):
        precondition(jobs.map(\.name) == other.map(\.name) && jobs.map(\.settings) == other.map(\.settings),
                     "the same document loaded twice differs")
    case (.failure(let error), .failure(let other)):
        precondition(error == other, "the same document failed twice differently")
    default:
        preconditionFailure("the same document loaded once and failed once")
    }
    // What the text spells out (perhaps through an escape or `${EMPTY}`) may come back in an error.
    let written = (document.defaults + document.sections.flatMap(\.entries)).map { $0.key + "\n" + $0.value }
        + document.sections.map(\.name)
    let hidden = secretOnlyContents(document).filter { secret in
        !text.contains(secret) && !written.contains { $0.contains(secret) }
    }
    switch first {
    case .success(let jobs):
        for setting in jobs.flatMap(\.settings) {
            precondition(!hidden.contains { setting.value.contains($0) }, "a secret file's contents in \(setting.key)")
        }
    case .failure(let error):
        precondition(!error.message.isEmpty, "an error without a message")
        precondition(!error.description.contains { $0.isNewline }, "an error of more than one line")
        precondition(!hidden.contains { error.description.contains($0) }, "a secret file's contents in an error")
    }
    return 0
}

private let environment = ["HOME": "/home/app", "DB_PASSWORD": "s3cret", "EMPTY": "", "NESTED": "${HOME}",
                           "POSTGRESQL_DATABASE": "app", "BACKUP_DIR": "/backups/", "DEMO_PGPORT": "5432",
                           "DEMO_PASSWORD_FILE": "/run/secrets/password", "DEMO_BACKUP_DIR": "/backups/demo"]

/// What `_file` keys may name; any other path cannot be read. The recipient is the age testkit's.
private let files = [
    "/run/secrets/password": "Pa55-from-a-file\n",
    "/run/secrets/token": "t0ken-from-a-file\n\n",
    "/run/secrets/two-lines": "first line\nsecond line\n",
    "/run/secrets/slack-url": "https://hooks.slack.example/services/T0/B0/x\n",
    "/run/secrets/empty": "",
    "/dev/null": "",
    "/run/secrets/expansion": "${HOME}",
    "/run/secrets/recipient": "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef\n",
    "/etc/backup/path": "/backups\n",
    "/etc/backup/port": "5433",
]

private let loader = JobLoader(
    registry: BuiltinPlugins.registry,
    readFile: { path in
        guard let contents = files[path] else { throw Unreadable() }
        return contents
    },
    defaultTimeZone: "UTC")

private struct Unreadable: Error {}

private func load(_ document: ConfigDocument) -> Result<[Job], ConfigError> {
    do throws(ConfigError) {
        return .success(try loader.load(document))
    } catch {
        return .failure(error)
    }
}

/// The contents (as the loader reads them: trailing newlines dropped) of the files that look like secrets
/// and that secret `_file` keys name and no other key does.
private func secretOnlyContents(_ document: ConfigDocument) -> [String] {
    let entries = (document.defaults + document.sections.flatMap(\.entries)).filter { $0.key.hasSuffix("_file") }
    let secret = Set(entries.filter { loader.isSecret($0.key) }.map(\.value))
    let open = Set(entries.filter { !loader.isSecret($0.key) }.map(\.value))
    return secret.subtracting(open).compactMap { path in
        guard var contents = files[path], contents.contains("-from-a-file") else { return nil }
        while contents.last?.isNewline == true { contents.removeLast() }
        return contents
    }
}

import Engine

/// The config file parser with `${VAR}` expansion, against a fixed environment: a parse returns a document
/// or throws ConfigError (its typed throw), each entry's key and section are names a line could hold, and
/// parsing the same text twice gives the same document.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let environment = ["HOME": "/home/app", "DB_PASSWORD": "s3cret", "EMPTY": "", "NESTED": "${HOME}",
                       "POSTGRESQL_DATABASE": "app", "BACKUP_DIR": "/backups/"]
    let first: ConfigDocument
    do {
        first = try ConfigDocument.parse(text, file: "fuzz.conf", environment: environment)
    } catch {
        precondition(!error.message.isEmpty, "an error without a message")
        return 0
    }
    let again = try? ConfigDocument.parse(text, file: "fuzz.conf", environment: environment)
    precondition(again == first, "the same text parsed twice differs")
    return 0
}

@testable import Postgres

/// The globals sidecars a restore reads (a database's `.globals.json`, version 1 or 2, and a whole server's),
/// chosen by the first byte: a document decodes into data or is refused whole, and what decodes encodes to
/// bytes that decode to the same document.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGlobals(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] % 2 == 0 {
        guard let globals = try? DatabaseGlobals.decode(bytes) else { return 0 }
        guard let encoded = try? globals.encoded() else { preconditionFailure("decoded globals do not encode") }
        guard let again = try? DatabaseGlobals.decode(encoded) else {
            preconditionFailure("globals' own encoding is refused: \(String(decoding: encoded, as: UTF8.self))")
        }
        precondition(again.roles.map(\.name) == globals.roles.map(\.name) && again.acl == globals.acl,
                     "globals changed through their own encoding")
    } else {
        guard let globals = try? ServerGlobals.decode(bytes) else { return 0 }
        guard let encoded = try? globals.encoded() else { preconditionFailure("decoded globals do not encode") }
        guard let again = try? ServerGlobals.decode(encoded) else {
            preconditionFailure("server globals' own encoding is refused: \(String(decoding: encoded, as: UTF8.self))")
        }
        precondition(again == globals, "server globals changed through their own encoding")
    }
    return 0
}

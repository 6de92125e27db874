import Engine

/// A manifest as a bucket or a shared volume may hold it (v1 or v2, or anything): it decodes or throws, and
/// what decodes encodes to bytes that decode to the same manifest (a version 1 manifest written again is
/// version 2, by design), and encoding that again changes nothing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let manifest = try? Manifest.decode(bytes) else { return 0 }
    guard let encoded = try? manifest.encoded() else {
        preconditionFailure("a decoded manifest does not encode")
    }
    guard let again = try? Manifest.decode(encoded) else {
        preconditionFailure("a manifest's own encoding does not decode: \(String(decoding: encoded, as: UTF8.self))")
    }
    var expected = manifest
    expected.manifestVersion = Manifest.currentVersion
    precondition(again == expected, "a manifest changed through its own encoding")
    precondition((try? again.encoded()) == encoded, "a manifest's encoding is not stable")
    return 0
}

@testable import Age

/// An age file as a bucket may hold it, decrypted with the age testkit's X25519 identity: the header parser
/// and the STREAM decoder either give plaintext or throw, fed in one piece or in pieces of 7 bytes alike;
/// the plaintext is never larger than the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAge(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? AgeHeader.parse(bytes[...])
    let whole = decrypt(bytes, piece: max(1, size))
    let pieces = decrypt(bytes, piece: 7)
    switch (whole, pieces) {
    case (.success(let a), .success(let b)):
        precondition(a == b, "the plaintext depends on how the file was cut")
        precondition(a.count <= size, "\(a.count) bytes of plaintext from a \(size)-byte file")
    case (.failure, .failure):
        break
    default:
        preconditionFailure("the outcome depends on how the file was cut")
    }
    return 0
}

private let identity = X25519Identity("AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0")!

private func decrypt(_ bytes: [UInt8], piece: Int) -> Result<[UInt8], any Error> {
    Result {
        let decoder = AgeDecoder(identities: [identity], noMatch: "no identity matches")
        var output: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            try bytes[offset..<end].withUnsafeBytes { try decoder.update($0, into: &output) }
            offset = end
        }
        try decoder.finish(into: &output)
        return output
    }
}

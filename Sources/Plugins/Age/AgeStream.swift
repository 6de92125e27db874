import Crypto

/// age's payload: a 16-byte nonce, then the plaintext in 64 KiB chunks, each sealed with ChaCha20-Poly1305
/// under a key derived from the file key and the nonce, with a nonce of an 11-byte counter and a flag that
/// marks the last chunk, so truncation, reordering and appended data are all detected.
enum AgeStream {
    static let chunkSize = 64 * 1024
    static let tagSize = 16
    static let nonceSize = 16

    static func payloadKey(fileKey: SymmetricKey, nonce: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: nonce, info: Array("payload".utf8), outputByteCount: 32)
    }

    static func nonce(_ counter: UInt64, last: Bool) -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[10 - index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index))) }
        bytes[11] = last ? 1 : 0
        return try! ChaChaPoly.Nonce(data: bytes)  // 12 bytes is ChaCha20-Poly1305's nonce size
    }
}

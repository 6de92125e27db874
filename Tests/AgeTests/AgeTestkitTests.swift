@testable import Age
import CZlib
import Crypto
import Engine
import Foundation
import Testing
import TestSupport

/// The age format's published test vectors (Tests/Fixtures/age-testkit, from C2SP/CCTV): each file must
/// decrypt, or fail in the category its `expect:` names, releasing exactly the plaintext its `payload:`
/// hash says, even when it fails later.
@Suite struct AgeTestkitTests {
    struct Vector: CustomStringConvertible, Sendable {
        var name: String
        var expect: String
        var payload: String?
        var identities: [String]
        var passphrases: [String]
        var file: [UInt8]
        var description: String { name }
    }

    static let directory = "\(Paths.root)/Tests/Fixtures/age-testkit"

    static func load() throws -> [Vector] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted().filter { $0 != "README.md" }.map { name in
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)")))
            let split = try #require(bytes.firstRange(of: Array("\n\n".utf8)), "\(name) has no blank line after its header")
            var vector = Vector(name: name, expect: "", payload: nil, identities: [], passphrases: [], file: Array(bytes[split.upperBound...]))
            for line in String(decoding: bytes[..<split.lowerBound], as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: ": ", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                switch parts[0] {
                case "expect": vector.expect = parts[1]
                case "payload": vector.payload = parts[1]
                case "identity": vector.identities.append(parts[1])
                case "passphrase": vector.passphrases.append(parts[1])
                case "compressed": vector.file = try inflate(vector.file, name: name)
                case "armored": throw TestFailure("\(name) is armored; armored vectors are left out of the fixtures")
                default: break
                }
            }
            return vector
        }
    }

    static let vectors = (try? load()) ?? []

    static func inflate(_ data: [UInt8], name: String) throws -> [UInt8] {
        var capacity = max(data.count * 8, 1 << 16)
        while true {
            var output = [UInt8](repeating: 0, count: capacity)
            var length = uLongf(capacity)
            let status = output.withUnsafeMutableBytes { out in
                data.withUnsafeBytes { uncompress(out.baseAddress!.assumingMemoryBound(to: Bytef.self), &length,
                                                  $0.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(data.count)) }
            }
            if status == Z_BUF_ERROR { capacity *= 4; continue }
            guard status == Z_OK else { throw TestFailure("\(name): zlib status \(status)") }
            return Array(output.prefix(Int(length)))
        }
    }

    @Test func everyVectorLoads() throws {
        let loaded = try Self.load()
        #expect(loaded.count == 92 && Self.vectors.count == loaded.count)
        #expect(Set(loaded.map(\.expect)) == ["success", "no match", "HMAC failure", "header failure", "payload failure"])
    }

    @Test(arguments: vectors)
    func vectorDecryptsAsExpected(_ vector: Vector) throws {
        var identities: [any AgeIdentity] = try vector.identities.map { try #require(X25519Identity($0), "\(vector): identity does not parse") }
        identities += vector.passphrases.map { ScryptRecipient(passphrase: $0, workFactor: 0) }
        let decoder = AgeDecoder(identities: identities, noMatch: "no identity matches")
        var output: [UInt8] = []
        var failure: AgeFailure?
        do {
            // In uneven pieces, so chunks and the header straddle the calls.
            for start in stride(from: 0, to: vector.file.count, by: 7_001) {
                try vector.file[start..<min(start + 7_001, vector.file.count)].withUnsafeBytes { try decoder.update($0, into: &output) }
            }
            try decoder.finish(into: &output)
        } catch let error as BackupError {
            #expect(error.code == .decryption)
            failure = try #require(error.cause as? AgeFailure, "\(vector): \(error)")
        }
        let kind: String = switch failure?.kind {
        case nil: "success"
        case .header: "header failure"
        case .hmac: "HMAC failure"
        case .noMatch: "no match"
        case .payload: "payload failure"
        }
        #expect(kind == vector.expect, "\(vector): \(failure?.message ?? "decrypted")")
        if let payload = vector.payload {
            #expect(SHA256.hash(data: output).map { String(format: "%02x", $0) }.joined() == payload, "\(vector): released plaintext differs")
        }
    }

    /// Our encoder's files open with our decoder, for the sizes around STREAM's chunk boundaries.
    @Test(arguments: [0, 1, 65_535, 65_536, 65_537, 131_072, 200_000])
    func encryptsAndDecryptsAroundChunkBoundaries(size: Int) throws {
        let identity = X25519Identity()
        let plain = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let encrypted = try AgeEncoder(recipients: [identity.recipient]).transformAll(plain)
        let chunks = max(1, (size + 65_535) / 65_536)
        let header = try #require(try AgeHeader.parse(encrypted[...])).length
        #expect(encrypted.count == header + 16 + size + 16 * chunks)
        #expect(try AgeDecoder(identities: [identity], noMatch: "").transformAll(encrypted) == plain)
    }
}

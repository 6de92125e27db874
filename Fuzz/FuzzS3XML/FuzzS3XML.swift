import Foundation
@testable import S3

/// The XML reader every S3 and STS answer goes through (listings, multipart listings, errors, initiate and
/// complete results, credentials): an answer parses to a tree or to nil, never further than its own bytes;
/// every element has a name without markup in it, and the fields the client reads can be read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzS3XML(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let root = S3XML.parse(Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    var stack = [root]
    var seen = 0
    while let node = stack.popLast() {
        seen += 1
        precondition(!node.name.isEmpty && !node.name.contains("<") && !node.name.contains(">"),
                     "an element named \(node.name.debugDescription)")
        for field in ["Key", "Size", "LastModified", "ETag", "UploadId", "Code", "Message", "Expiration",
                      "NextContinuationToken", "IsTruncated"] {
            _ = node.value(field)
            _ = node.date(field)
            _ = node.all(field)
        }
        stack += node.children
    }
    precondition(seen <= size, "\(seen) elements from \(size) bytes")
    return 0
}

import Engine

/// The bound on a listing read page by page (ListObjectsV2, ListMultipartUploads): a store that keeps
/// saying "there is more" fails the listing, naming what it did, rather than hold `backup list` or
/// `backup now` in a loop of requests forever.
///
/// It ends a listing whose store sends a continuation token it sent before, lists again on a page what the
/// page before listed (it ignores the token: a new token each time would otherwise go on forever), says
/// there is more without a token, or needs more than `maxPages` pages: 100,000 by default, 100 million
/// objects at S3's 1,000 a page, far more than a prefix of backups holds, yet an end.
struct ListingBound {
    static let maxPages = 100_000

    /// What is listed, for the error: `ListObjectsV2 s3://bucket/prefix`.
    let operation: String
    /// What the store calls its continuation, for the error.
    let tokenName: String
    let maxPages: Int
    private(set) var pages = 0
    private var tokens: Set<String> = []
    private var previous: Set<String> = []

    init(operation: String, tokenName: String, maxPages: Int = Self.maxPages) {
        self.operation = operation
        self.tokenName = tokenName
        self.maxPages = maxPages
    }

    /// Takes one page: the names it lists, whether it says there is more, and its continuation; returns the
    /// continuation to ask for next, nil when the listing is complete.
    mutating func next(listed: [String], truncated: Bool, token: String?) throws -> String? {
        pages += 1
        if truncated {
            guard let token, !token.isEmpty else {
                throw failure("page \(pages) says there is more (IsTruncated) but has no \(tokenName)")
            }
            guard tokens.insert(token).inserted else {
                throw failure("the store sent \(tokenName) \(Self.quoted(token)) again on page \(pages)")
            }
        }
        if let again = listed.first(where: previous.contains) {
            throw failure("page \(pages) lists \(Self.quoted(again)) again, as page \(pages - 1) did:"
                + " the store ignores the continuation")
        }
        previous = Set(listed)
        guard truncated else { return nil }
        guard pages < maxPages else {
            throw failure("the store still says there is more after \(pages) pages")
        }
        return token
    }

    private func failure(_ what: String) -> BackupError {
        BackupError(.destination, "\(operation): \(what), so the listing would never end;"
            + " the store (or a proxy in front of it) does not page listings as S3 does")
    }

    /// At most 60 characters of `text`, quoted: tokens are opaque and may be long.
    private static func quoted(_ text: String) -> String {
        "'" + (text.count > 60 ? text.prefix(57) + "..." : text) + "'"
    }
}

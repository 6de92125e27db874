/// Follows one SQL statement token by token (outside parentheses) and says which tokens stand where a
/// role is named in what pg_dump writes:
///
/// - `ALTER … OWNER TO role`, `… GRANTED BY role`
/// - `GRANT … TO role, …`, `REVOKE … FROM role, …`, also inside `ALTER DEFAULT PRIVILEGES FOR ROLE role, …`
/// - `CREATE POLICY … TO role, …`, `CREATE USER MAPPING FOR role`
/// - `SET SESSION AUTHORIZATION role` (a string there too), `CREATE SCHEMA … AUTHORIZATION role`
///
/// It also tells a `COPY … FROM stdin` statement, whose data lines follow it.
struct RolePositions {
    enum Token {
        /// An unquoted word, as written.
        case word([UInt8])
        /// A quoted identifier's name.
        case quoted(String)
        /// A string's text; a role only after `SET SESSION AUTHORIZATION`.
        case string(String)
        case punctuation(UInt8)
        case other
    }

    private enum Kind { case other, grant, revoke, defaultPrivileges, policy, userMapping, copy }
    private enum Expect { case nothing, one, list, afterListItem }

    /// The words that matter here; any other word is `nil`.
    enum Keyword: String, CaseIterable {
        case alter, authorization, by, copy, create, `default`, `for`, from, grant, granted, mapping, owner, policy
        case privileges, revoke, role, schema, session, set, stdin, to, user
        // Stand where a role does but name none (`GROUP` precedes one).
        case `public`, current_user, current_role, session_user, group, none

        var isRoleWord: Bool {
            switch self {
            case .public, .current_user, .current_role, .session_user, .group, .none, .user, .default: true
            default: false
            }
        }

        /// Up to 16 bytes, upper-cased, packed in two integers: found without making a string.
        struct Packed: Hashable {
            var low: UInt64 = 0
            var high: UInt64 = 0

            init?(_ bytes: [UInt8]) {
                guard bytes.count <= 16 else { return nil }
                for (index, byte) in bytes.enumerated() {
                    let upper = UInt64((0x61...0x7A).contains(byte) ? byte - 0x20 : byte)
                    if index < 8 { low |= upper << (8 * index) } else { high |= upper << (8 * (index - 8)) }
                }
            }
        }

        static let table: [Packed: Keyword] = Dictionary(uniqueKeysWithValues: allCases.map {
            (Packed(Array($0.rawValue.utf8))!, $0)
        })

        init?(_ bytes: [UInt8]) {
            guard let packed = Packed(bytes), let keyword = Self.table[packed] else { return nil }
            self = keyword
        }
    }

    private var words: [Keyword?] = []
    private var depth = 0
    private var kind = Kind.other
    private var expect = Expect.nothing
    /// The last two tokens outside parentheses: the keyword, or nil for anything else.
    private var previous: Keyword?
    private var beforePrevious: Keyword?
    private(set) var stringMayBeRole = false

    var endsCopyFromStdin: Bool { kind == .copy && depth == 0 && beforePrevious == .from && previous == .stdin }

    /// Takes the next token; returns the role name it stands for when it stands where a role is named.
    @discardableResult
    mutating func note(_ token: Token) -> String? {
        if case .punctuation(let byte) = token, byte == 0x28 || byte == 0x29 {
            depth = max(0, depth + (byte == 0x28 ? 1 : -1))
            shift(nil)
            return nil
        }
        guard depth == 0 else { return nil }
        var keyword: Keyword?
        if case .word(let bytes) = token { keyword = Keyword(bytes) }
        if words.count < 3 {
            words.append(keyword)
            classify()
        }
        defer { shift(keyword) }
        if expect != .nothing, let role = role(token, keyword: keyword) { return role }
        trigger(keyword)
        return nil
    }

    /// The role `token` names, when the statement expects one here; moves past a list's commas.
    private mutating func role(_ token: Token, keyword: Keyword?) -> String? {
        switch expect {
        case .nothing:
            return nil
        case .afterListItem:
            if case .punctuation(0x2C) = token { expect = .list } else { expect = .nothing }
            return nil
        case .one, .list:
            let next: Expect = expect == .list ? .afterListItem : .nothing
            let allowsString = stringMayBeRole
            stringMayBeRole = false
            switch token {
            case .word(let bytes) where !(keyword?.isRoleWord ?? false):
                expect = next
                return String(decoding: bytes.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
            case .word where keyword == .group:
                return nil
            case .word:
                expect = next
                return nil
            case .quoted(let name):
                expect = next
                return name
            case .string(let text) where allowsString:
                expect = next
                return text
            default:
                expect = .nothing
                return nil
            }
        }
    }

    private mutating func trigger(_ keyword: Keyword?) {
        guard let keyword else { return }
        switch keyword {
        // Before `OWNER TO`: in `GRANT … ON public.owner TO a, b` the list follows a table named owner.
        case .to where kind == .grant || kind == .policy: expect = .list
        case .to where previous == .owner: expect = .one
        case .by where previous == .granted: expect = .one
        case .from where kind == .revoke: expect = .list
        case .role where kind == .defaultPrivileges && previous == .for,
             .user where kind == .defaultPrivileges && previous == .for: expect = .list
        case .grant where kind == .defaultPrivileges: kind = .grant
        case .revoke where kind == .defaultPrivileges: kind = .revoke
        case .for where kind == .userMapping: expect = .one
        case .authorization where words.starts(with: [.set, .session]):
            expect = .one
            stringMayBeRole = true
        case .authorization where words.starts(with: [.create, .schema]): expect = .one
        default: break
        }
    }

    private mutating func classify() {
        switch words {
        case [.grant]: kind = .grant
        case [.revoke]: kind = .revoke
        case [.copy]: kind = .copy
        case [.alter, .default, .privileges]: kind = .defaultPrivileges
        case [.create, .policy]: kind = .policy
        case [.create, .user, .mapping]: kind = .userMapping
        default: break
        }
    }

    private mutating func shift(_ keyword: Keyword?) {
        beforePrevious = previous
        previous = keyword
    }
}

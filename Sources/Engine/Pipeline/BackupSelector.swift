/// Which backup a restore or verify means: the newest, one by name (or timestamp), or a file path.
public enum BackupSelector: Sendable, Equatable {
    case latest
    case named(String)

    public init(_ text: String) {
        self = text == "latest" ? .latest : .named(text)
    }
}

extension Array<String> {
    /// The names for a message: the first 20, comma-separated, and how many there are when there are more.
    var listed: String {
        prefix(20).joined(separator: ", ") + (count > 20 ? ", … (\(count) in all)" : "")
    }
}

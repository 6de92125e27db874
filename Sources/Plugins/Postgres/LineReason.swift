/// Why a version 1 line was refused.
struct LineReason: Error {
    var text: String
    /// The line is of a known shape but for another role than the one it is filed under.
    var otherRole = false
    init(_ text: String, otherRole: Bool = false) {
        self.text = text
        self.otherRole = otherRole
    }
}

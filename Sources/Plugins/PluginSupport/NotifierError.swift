/// A notifier that could not deliver its message; `description` names the receiver and the reason.
package struct NotifierError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

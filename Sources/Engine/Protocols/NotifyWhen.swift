/// When a job's notifiers hear from it (`notify.on`).
public enum NotifyWhen: String, Sendable {
    case failure, always
}

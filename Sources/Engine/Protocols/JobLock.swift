/// A held per-job lock. Where the store has no lock that its holder's death releases (an object store),
/// it is a lease: it names its holder and lapses unless renewed, so a holder that died is taken over
/// once its lease ran out.
///
/// Implementation requirements:
/// - `renew` extends the lease by the `lease` it was taken with; it throws `BackupError(.targetBusy, …)`
///   when the lock is no longer this holder's (it lapsed and another took it), and the job then stops.
/// - `release` gives the lock up, so the next run need not wait for a lease to lapse; it may fail (a
///   network store), and a lock not released is then taken over when its lease runs out.
public protocol JobLock: AnyObject, Sendable {
    func renew() async throws
    func release() async throws
}

/// Destinations that can serialise runs of one job across processes (and pods sharing the storage).
///
/// Implementation requirements:
/// - `lock` fails at once with `BackupError(.targetBusy, …)` naming the holder when another process
///   holds the job's lock, unless `wait`, in which case it waits until the lock is free.
/// - A lock whose holder died (the kernel released it, or its lease ran out without renewal) is taken
///   over, not obeyed; the returned `tookOverFrom` names that holder.
/// - `lease` is how long a lock lasts without `renew`; stores whose locks die with their holder may
///   ignore it.
/// - `removeLeftovers` deletes partial uploads of the job that a killed process left behind and returns
///   their names; it is called only while holding the job's lock.
/// - `lockHolder` says who the store records as holding the job's lock (nil: nobody), by reading only:
///   it never takes the lock, even for an instant, so it cannot make a starting run fail. What it says
///   may be a holder that died and whose lock the next run takes over; the text says so where the store
///   cannot tell.
public protocol LockingDestination: Destination {
    func lock(job: String, wait: Bool, lease: Duration) async throws -> (lock: any JobLock, tookOverFrom: String?)
    func removeLeftovers(job: String) async throws -> [String]
    func lockHolder(job: String) async throws -> String?
}

import Foundation
import NIOCore

/// The cores this process may use, the default for `gzip.threads`, `zstd.threads` and restore jobs.
///
/// In a pod with a CPU limit that is the limit (rounded up), not the node's cores: on a 32-core node a
/// pod limited to 2 CPUs would otherwise start 32 compression threads, each throttled, and each holding
/// its own buffers (about 3 MiB a zstd worker, 4 MiB a gzip thread). The answer is the smallest of:
/// Foundation's count (a cgroup v1 quota, else the first range of a v1 cpuset, else the online CPUs),
/// SwiftNIO's (which also reads cgroup v2's `cpu.max` and v2 cpusets, as current Kubernetes and OpenShift
/// nodes use), and the CPUs this process's affinity allows (`taskset`, which neither library reads).
public enum CPUCount {
    public static let available = max(1, min(256, ProcessInfo.processInfo.activeProcessorCount, System.coreCount,
                                              affinity ?? Int.max))

    /// The CPUs this process's affinity allows, from `Cpus_allowed_list` in /proc/self/status (a list
    /// such as `0-3,8`), or nil where that cannot be read. Glibc's `sched_getaffinity` is not visible to
    /// Swift without `_GNU_SOURCE`.
    package static var affinity: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return nil }
        return count(cpuList: line.dropFirst("Cpus_allowed_list:".count))
    }

    /// The CPUs in a Linux CPU list such as `0-3,8`; nil when it is not one.
    package static func count(cpuList: Substring) -> Int? {
        var total = 0
        for range in cpuList.trimmingCharacters(in: .whitespaces).split(separator: ",") {
            let ends = range.split(separator: "-", maxSplits: 1).map { Int($0) }
            guard let first = ends.first ?? nil, let last = ends.last ?? nil, last >= first else { return nil }
            total += last - first + 1
        }
        return total > 0 ? total : nil
    }
}

import Foundation
import NIOCore

/// The cores this process may use, the default for `gzip.threads`, `zstd.threads` and restore jobs.
///
/// In a pod with a CPU limit that is the limit (rounded up), not the node's cores: on a 32-core node a
/// pod limited to 2 CPUs would otherwise start 32 compression threads, each throttled, and each holding
/// its own buffers (about 3 MiB a zstd worker, 4 MiB a gzip thread). Foundation's count follows the
/// CPU affinity and a cgroup v1 quota; SwiftNIO's also follows cgroup v2's `cpu.max` and cpusets, which
/// is what current Kubernetes and OpenShift nodes use. The smaller of the two is the answer.
public enum CPUCount {
    public static let available = max(1, min(ProcessInfo.processInfo.activeProcessorCount, System.coreCount))
}

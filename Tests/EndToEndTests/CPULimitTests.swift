import Foundation
import PluginSupport
import Testing
import TestSupport

/// The thread defaults follow a container's CPU limit and the CPU affinity, not the machine's cores.
///
/// The quota test makes a cgroup with a CPU quota of one CPU and runs `backup check-config` inside it,
/// with the cgroup tree mounted as a container sees it (its own cgroup as the root). It needs root and the
/// cgroup v1 cpu controller mounted alone at /sys/fs/cgroup/cpu, as on the machine CI runs on. Foundation
/// and SwiftNIO both read that quota, so this shows the defaults follow it, not which library read it.
/// The cgroup v2 `cpu.max` path is SwiftNIO's and cannot be set up here: this kernel binds the cpu
/// controller to v1. The affinity test needs neither: `taskset` is read by our own code alone.
@Suite struct CPULimitTests {
    @Test func threadDefaultsFollowTheCgroupCPUQuota() async throws {
        // Without a limit the defaults are this machine's cores; the quota must bring them below that.
        try #require(CPUCount.available > 1, "this test needs a machine with more than one core")
        let directory = try Paths.temporaryDirectory("cpu-limit")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/backup.conf"
        try """
            local.path = \(directory)
            postgres.user = u
            [z]
            postgres.database = a
            compressor = zstd
            [g]
            postgres.database = b
            compressor = gzip

            """.write(toFile: config, atomically: true, encoding: .utf8)

        let unlimited = try await Shell.run(Paths.backup, ["check-config", "--config", config])
        #expect(unlimited.status == 0, "\(unlimited.stderr)")
        #expect(unlimited.stdout.contains("zstd.threads = \(CPUCount.available) "), "\(unlimited.stdout)")
        #expect(unlimited.stdout.contains("gzip.threads = \(CPUCount.available) "), "\(unlimited.stdout)")

        let cgroup = "/sys/fs/cgroup/cpu/backup-tests-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: cgroup, withIntermediateDirectories: false)
        defer { #expect(rmdir(cgroup) == 0, "cgroup \(cgroup) left behind") }  // empty once the shell below exits
        try "100000\n".write(toFile: "\(cgroup)/cpu.cfs_period_us", atomically: false, encoding: .utf8)
        try "100000\n".write(toFile: "\(cgroup)/cpu.cfs_quota_us", atomically: false, encoding: .utf8)
        // The shell joins the cgroup, then a new cgroup and mount namespace shows that cgroup as the root.
        let inside = "mount -t tmpfs none /sys/fs/cgroup && mkdir /sys/fs/cgroup/cpu"
            + " && mount -t cgroup -o cpu cgroup /sys/fs/cgroup/cpu && exec \"$0\" check-config --config \"$1\""
        let limited = try await Shell.sh(
            "echo $$ > \(cgroup)/cgroup.procs && exec unshare --cgroup --mount --propagation private sh -c "
                + "\(Shell.quote(inside)) \(Shell.quote(Paths.backup)) \(Shell.quote(config))")
        #expect(limited.status == 0, "\(limited.stderr)")
        #expect(limited.stdout.contains("zstd.threads = 1 "), "\(limited.stdout)")
        #expect(limited.stdout.contains("gzip.threads = 1 "), "\(limited.stdout)")
    }

    @Test func threadDefaultsFollowTheCPUAffinity() async throws {
        try #require(CPUCount.available > 1, "this test needs a machine with more than one core")
        let directory = try Paths.temporaryDirectory("cpu-affinity")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/backup.conf"
        try "local.path = \(directory)\npostgres.user = u\npostgres.database = a\ncompressor = zstd\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let pinned = try await Shell.run("/usr/bin/taskset", ["-c", "0", Paths.backup, "check-config", "--config", config])
        #expect(pinned.status == 0, "\(pinned.stderr)")
        #expect(pinned.stdout.contains("zstd.threads = 1 "), "\(pinned.stdout)")
    }
}

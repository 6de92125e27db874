import Foundation
import PackagePlugin

/// Writes `BuildRevision.swift` into the runner before each build: the commit it is built from (`git rev-parse`;
/// `+changes` when the work tree differs from it) and that commit's date, for `backup --version` and the
/// `backup_build_info` gauge. The file is rewritten only when that changes, so a build of the same commit
/// compiles nothing again. Without git or a repository (a build context without .git) both are `unknown`.
@main
struct BuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = #"""
            root=$1 out=$2/BuildRevision.swift
            revision=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null) || revision=unknown
            date=$(git -C "$root" log -1 --format=%cI 2>/dev/null) || date=unknown
            changed=$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)
            if [ "$revision" != unknown ] && [ -n "$changed" ]; then revision="$revision+changes"; fi
            mkdir -p "$2"
            text=$(printf '// Written by the BuildInfo plugin before each build.\nenum BuildRevision {\n%s\n%s\n}\n' \
                "    static let commit = \"$revision\"" "    static let date = \"$date\"")
            [ -f "$out" ] && [ "$(cat "$out")" = "$text" ] || printf '%s\n' "$text" > "$out"
            """#
        return [.prebuildCommand(
            displayName: "BuildInfo: the commit backup is built from",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", script, "sh", context.package.directoryURL.path, output.path],
            outputFilesDirectory: output)]
    }
}

import BuiltinPlugins
import Engine

/// Settings of the process that runs the jobs, not of any one job: how it logs, where `backup run` serves
/// its status, and how many jobs run at once. Set them before the first `[job]`.
struct ProcessSettings {
    static let keys: [KeySpec] = [
        KeySpec("parallel", .integer(1...64), default: "1",
                summary: "how many jobs `backup run` runs at once, and how many databases a whole-server job "
                + "dumps at once (set it before the first [job])"),
        KeySpec("log.format", .choice(["text", "json"]),
                summary: "text, or one JSON object per line for log collectors (default: $LOG_FORMAT, else text)"),
        KeySpec("http.listen", .address, summary: "address:port where `backup run` serves /healthz, /readyz and "
                + "/metrics (default: $HTTP_LISTEN, else off)"),
        KeySpec("metrics.pushgateway", .string, summary: "URL of a Prometheus Pushgateway that `backup now` pushes "
                + "each job's metrics to after its run (e.g. http://pushgateway:9091)"),
        KeySpec("metrics.textfile", .string, summary: "file that `backup now` writes its jobs' metrics to after the "
                + "run, for node-exporter's textfile collector (replaced atomically, mode 0640)"),
    ]

    /// Every built-in plugin; the one place the runner takes them from.
    static let registry = BuiltinPlugins.registry

    var parallel: Int
    var logFormat: String?
    var httpListen: String?
    var pushgateway: String?
    var metricsTextfile: String?
    /// The settings with where each came from, for `check-config`.
    var effective: [EffectiveSetting]

    init(_ settings: PluginSettings, effective: [EffectiveSetting]) {
        parallel = settings.integer("parallel") ?? 1
        logFormat = settings.string("log.format")
        httpListen = settings.string("http.listen")
        pushgateway = settings.string("metrics.pushgateway")
        metricsTextfile = settings.string("metrics.textfile")
        self.effective = effective
    }
}

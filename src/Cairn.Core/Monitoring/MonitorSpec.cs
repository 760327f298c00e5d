using System.Globalization;
using Cairn.Core.Statistics;

namespace Cairn.Core.Monitoring;

/// <summary>A deployment's monitor as stored: what it compares live traffic against, and how.</summary>
/// <param name="Deployment">The monitored deployment.</param>
/// <param name="Spec">The settings.</param>
/// <param name="Baseline">The stored <see cref="MonitorBaseline"/>: the reference profile, scored, with its calibration.</param>
/// <param name="Revision">Grows with every change.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="CreatedBy">Who created it.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record DeploymentMonitor(string Deployment, MonitorSpec Spec, ContentHash Baseline, int Revision, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset UpdatedAt);

/// <summary>
/// What a monitor checks. Everything but the reference has a default; settings come from flags, or from a YAML file
/// for per-column tests, alert rules, notifications and the retraining policy.
/// </summary>
public sealed record MonitorSpec
{
    /// <summary>The dataset version live traffic is compared against (<c>name@N</c>), with the label column for performance.</summary>
    public required string Reference { get; init; }

    /// <summary>The length of a window; windows start at whole multiples of it since the Unix epoch.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);

    /// <summary>An input column whose values split each window into segments with results of their own.</summary>
    public string? Segment { get; init; }

    /// <summary>Per-column drift settings, overriding the default test and threshold.</summary>
    public IReadOnlyDictionary<string, ColumnDriftSetting> Columns { get; init; } = new Dictionary<string, ColumnDriftSetting>();

    /// <summary>The share of drifted features at which the window's data as a whole has drifted.</summary>
    public double DriftShare { get; init; } = DriftDetector.DatasetDriftShare;

    /// <summary>The share of predictions written to the prediction log (feedback can label only logged predictions).</summary>
    public double SampleRate { get; init; } = 1.0;

    /// <summary>How long logged predictions and their labels are kept.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>The prediction log's size when the settings name none: 1 GiB.</summary>
    public const long DefaultMaxLogBytes = 1L << 30;

    /// <summary>
    /// The most the prediction log may store (compressed); its oldest segments go first beyond it. Null (as in
    /// monitors stored before the setting existed) means <see cref="DefaultMaxLogBytes"/>.
    /// </summary>
    public long? MaxLogBytes { get; init; }

    /// <summary>The prediction log's size limit in effect.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long LogLimit => MaxLogBytes ?? DefaultMaxLogBytes;

    /// <summary>Conditions on each window's results that raise an alert.</summary>
    public IReadOnlyList<AlertRule> Alerts { get; init; } = [];

    /// <summary>Where alerts are sent besides the server's log and the alert history.</summary>
    public IReadOnlyList<WebhookTarget> Webhooks { get; init; } = [];

    /// <summary>After a rule fires, it stays quiet for this long (by window time).</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The closed loop: what an alert, a schedule or new data sets off; null for none.</summary>
    public RetrainPolicy? Policy { get; init; }

    /// <summary>The smallest window: anything shorter makes profiles too small to test.</summary>
    public static readonly TimeSpan MinWindow = TimeSpan.FromSeconds(1);

    /// <summary>Throws, naming every problem at once, unless the settings are coherent.</summary>
    public MonitorSpec Validate() =>
        Problems() is { Count: > 0 } problems ? throw CairnException.Invalid($"The monitor is not valid: {string.Join("; ", problems)}.") : this;

    private List<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Reference) || !Reference.Contains('@', StringComparison.Ordinal))
        {
            problems.Add($"the reference must be a dataset version such as name@1, not '{Reference}'");
        }

        if (Window < MinWindow || Window > TimeSpan.FromDays(31))
        {
            problems.Add($"the window must be between 1s and 31d, not {Durations.Format(Window)}");
        }

        if (DriftShare is <= 0 or > 1)
        {
            problems.Add($"drift_share must be above 0 and at most 1, not {DriftShare.ToString(CultureInfo.InvariantCulture)}");
        }

        if (SampleRate is < 0 or > 1)
        {
            problems.Add($"sample_rate must be between 0 and 1, not {SampleRate.ToString(CultureInfo.InvariantCulture)}");
        }

        if (Retention < TimeSpan.FromMinutes(1))
        {
            problems.Add($"retention must be at least 1m, not {Durations.Format(Retention)}");
        }

        if (LogLimit < 1L << 20)
        {
            problems.Add($"the log's max_size must be at least 1MB, not {ByteSizes.Format(LogLimit)}");
        }

        foreach (var (column, setting) in Columns)
        {
            if (setting.Threshold is { } t && !(t > 0))
            {
                problems.Add($"column '{column}': the threshold must be above 0");
            }
        }

        foreach (var group in Alerts.GroupBy(a => a.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"alert '{group.Key}' is defined {group.Count()} times");
        }

        problems.AddRange(Alerts.SelectMany(a => a.Problems()));
        foreach (var webhook in Webhooks)
        {
            if (!Uri.TryCreate(webhook.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                problems.Add($"webhook '{webhook.Url}' is not an http:// or https:// address");
            }
        }

        if (Policy is not null)
        {
            problems.AddRange(Policy.Problems(Alerts));
        }

        return problems;
    }

    /// <summary>The window containing <paramref name="at"/>.</summary>
    public (DateTimeOffset Start, DateTimeOffset End) WindowOf(DateTimeOffset at) => WindowOf(at, Window);

    /// <summary>The window of length <paramref name="window"/> containing <paramref name="at"/>.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) WindowOf(DateTimeOffset at, TimeSpan window)
    {
        var ticks = at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var start = DateTimeOffset.UnixEpoch.AddTicks(ticks - (((ticks % window.Ticks) + window.Ticks) % window.Ticks));
        return (start, start + window);
    }

    /// <summary>
    /// Reads a monitor's settings from YAML; <paramref name="reference"/>, <paramref name="window"/> and
    /// <paramref name="segment"/> (from flags) win over the file when given. Every problem is named at once.
    /// </summary>
    public static MonitorSpec Parse(string? yaml, string? reference, string? window, string? segment)
    {
        var document = yaml is null ? new MonitorDocument() : SpecYaml.Read<MonitorDocument>(yaml, "the monitor settings");
        return document.ToSpec(reference, window, segment).Validate();
    }

    // The YAML shape: every field optional so that problems can be named.
    private sealed class MonitorDocument
    {
        public string? Reference { get; set; }

        public string? Window { get; set; }

        public string? Segment { get; set; }

        public double? DriftShare { get; set; }

        public Dictionary<string, ColumnDocument>? Columns { get; set; }

        public LogDocument? Log { get; set; }

        public List<AlertDocument>? Alerts { get; set; }

        public List<WebhookDocument>? Webhooks { get; set; }

        public string? Cooldown { get; set; }

        public PolicyDocument? Policy { get; set; }

        public MonitorSpec ToSpec(string? reference, string? window, string? segment)
        {
            var problems = new List<string>();
            long? Size(string? text)
            {
                if (text is null)
                {
                    return null;
                }

                if (ByteSizes.TryParse(text, out var size))
                {
                    return size;
                }

                problems.Add($"log max_size '{text}' is not a size such as 512MB, 2GB or 1GiB");
                return null;
            }

            TimeSpan Duration(string? text, string what, TimeSpan fallback)
            {
                if (text is null)
                {
                    return fallback;
                }

                if (Durations.TryParse(text, out var parsed))
                {
                    return parsed;
                }

                problems.Add($"{what} '{text}' is not a duration such as 30s, 15m, 1h or 7d");
                return fallback;
            }

            var columns = new Dictionary<string, ColumnDriftSetting>(StringComparer.Ordinal);
            foreach (var (name, column) in Columns ?? [])
            {
                DriftMethod? method = null;
                if (column.Method is { } m)
                {
                    if (Enum.GetValues<DriftMethod>().FirstOrDefault(d => MethodName(d) == m) is var found && MethodName(found) == m)
                    {
                        method = found;
                    }
                    else
                    {
                        problems.Add($"column '{name}': unknown drift method '{m}' (known: {string.Join(", ", Enum.GetValues<DriftMethod>().Select(MethodName))})");
                    }
                }

                columns[name] = new ColumnDriftSetting(method, column.Threshold);
            }

            var alerts = (Alerts ?? []).Select((a, i) => a.ToRule(i + 1, problems)).ToList();
            var webhooks = (Webhooks ?? []).Select((w, i) =>
            {
                if (w.Url is not { Length: > 0 })
                {
                    problems.Add($"webhook {i + 1} has no url");
                }

                return new WebhookTarget(w.Url ?? "", w.SecretEnv);
            }).ToList();
            var policy = Policy?.ToPolicy(problems);
            var spec = new MonitorSpec
            {
                Reference = reference ?? Reference ?? "",
                Window = Duration(window ?? Window, "window", TimeSpan.FromHours(1)),
                Segment = segment ?? Segment,
                DriftShare = DriftShare ?? DriftDetector.DatasetDriftShare,
                Columns = columns,
                SampleRate = Log?.SampleRate ?? 1.0,
                Retention = Duration(Log?.Retention, "log retention", TimeSpan.FromDays(7)),
                MaxLogBytes = Size(Log?.MaxSize),
                Alerts = alerts,
                Webhooks = webhooks,
                Cooldown = Duration(Cooldown, "cooldown", TimeSpan.FromHours(1)),
                Policy = policy,
            };
            problems.AddRange(spec.Problems());
            return problems.Count == 0 ? spec : throw CairnException.Invalid($"The monitor is not valid: {string.Join("; ", problems)}.");
        }
    }

    /// <summary>A drift method's name in settings and reports.</summary>
    public static string MethodName(DriftMethod method) => method switch
    {
        DriftMethod.KolmogorovSmirnov => "ks",
        DriftMethod.ChiSquared => "chisquare",
        DriftMethod.ZTest => "z",
        DriftMethod.Wasserstein => "wasserstein",
        DriftMethod.JensenShannon => "jensenshannon",
        _ => "psi",
    };

    private sealed class ColumnDocument
    {
        public string? Method { get; set; }

        public double? Threshold { get; set; }
    }

    private sealed class LogDocument
    {
        public double? SampleRate { get; set; }

        public string? Retention { get; set; }

        public string? MaxSize { get; set; }
    }

    private sealed class AlertDocument
    {
        public string? Name { get; set; }

        public string? Metric { get; set; }

        public double? Above { get; set; }

        public double? Below { get; set; }

        public AlertRule ToRule(int index, List<string> problems)
        {
            var name = Name ?? Metric ?? $"alert-{index}";
            if (Metric is not { Length: > 0 })
            {
                problems.Add($"alert {index} names no metric");
            }

            if (Above.HasValue == Below.HasValue)
            {
                problems.Add($"alert '{name}' needs exactly one of above or below");
            }

            return new AlertRule(name, Metric ?? "", Above.HasValue ? AlertDirection.Above : AlertDirection.Below, Above ?? Below ?? 0);
        }
    }

    private sealed class WebhookDocument
    {
        public string? Url { get; set; }

        public string? SecretEnv { get; set; }
    }

    private sealed class PolicyDocument
    {
        public string? OnAlert { get; set; }

        public string? Schedule { get; set; }

        public string? OnNewVersion { get; set; }

        public string? Pipeline { get; set; }

        public Dictionary<string, string>? Params { get; set; }

        public string? Model { get; set; }

        public string? Holdout { get; set; }

        public string? Metric { get; set; }

        public double? MinImprovement { get; set; }

        public List<string>? Slices { get; set; }

        public double? MaxSliceRegression { get; set; }

        public int? CanaryPercent { get; set; }

        public int? CanaryRequests { get; set; }

        public double? MaxErrorRate { get; set; }

        public double? MaxLatencyMs { get; set; }

        public List<string>? ApproveBefore { get; set; }

        public RetrainPolicy ToPolicy(List<string> problems)
        {
            foreach (var (value, name) in new[] { (Pipeline, "pipeline"), (Model, "model"), (Holdout, "holdout") })
            {
                if (value is not { Length: > 0 })
                {
                    problems.Add($"policy: {name} is required");
                }
            }

            return new RetrainPolicy
            {
                OnAlert = OnAlert,
                Schedule = Schedule,
                OnNewVersion = OnNewVersion,
                Pipeline = Pipeline ?? "",
                Params = Params ?? [],
                Model = Model ?? "",
                Holdout = Holdout ?? "",
                Metric = Metric,
                MinImprovement = MinImprovement ?? 0,
                Slices = Slices ?? [],
                MaxSliceRegression = MaxSliceRegression ?? 0.05,
                CanaryPercent = CanaryPercent ?? 20,
                CanaryRequests = CanaryRequests ?? 200,
                MaxErrorRate = MaxErrorRate ?? 0.01,
                MaxLatencyMs = MaxLatencyMs ?? 250,
                ApproveBefore = ApproveBefore ?? [],
            };
        }
    }
}

/// <summary>A column's drift test and threshold, where they differ from the defaults.</summary>
/// <param name="Method">The test or distance; null keeps the default choice.</param>
/// <param name="Threshold">The p-value below which (tests) or distance at or above which (distances) the column drifted; null keeps the default.</param>
public sealed record ColumnDriftSetting(DriftMethod? Method, double? Threshold);

/// <summary>Whether an alert fires above or below its threshold.</summary>
public enum AlertDirection
{
    /// <summary>Fires when the metric is above the threshold.</summary>
    Above,

    /// <summary>Fires when the metric is below the threshold.</summary>
    Below,
}

/// <summary>A condition on a window's results.</summary>
/// <param name="Name">The rule's name, unique within the monitor.</param>
/// <param name="Metric">
/// A metric of <see cref="WindowResult.Metrics"/>: <c>drift_share</c>, <c>dataset_drift</c> (1 when drifted),
/// <c>prediction_drift</c>, <c>drift.COLUMN</c>, <c>quality_issues</c>, <c>missing_rate.COLUMN</c>,
/// <c>performance.METRIC</c>, <c>estimated.METRIC</c>, <c>error_rate</c>, <c>latency_p99_ms</c>, <c>rows</c>.
/// </param>
/// <param name="Direction">Whether it fires above or below the threshold.</param>
/// <param name="Threshold">The threshold.</param>
public sealed record AlertRule(string Name, string Metric, AlertDirection Direction, double Threshold)
{
    /// <summary>Whether <paramref name="value"/> breaks the rule.</summary>
    public bool Fires(double value) => Direction == AlertDirection.Above ? value > Threshold : value < Threshold;

    internal IEnumerable<string> Problems()
    {
        if (!Names.IsValid(Name))
        {
            yield return $"alert name '{Name}' may use only letters, digits, '.', '_' and '-'";
        }

        var known = new[] { "drift_share", "dataset_drift", "prediction_drift", "quality_issues", "error_rate", "latency_p99_ms", "rows" };
        var prefixes = new[] { "drift.", "missing_rate.", "performance.", "estimated." };
        if (!known.Contains(Metric, StringComparer.Ordinal) && !prefixes.Any(p => Metric.StartsWith(p, StringComparison.Ordinal) && Metric.Length > p.Length))
        {
            yield return $"alert '{Name}': unknown metric '{Metric}' (known: {string.Join(", ", known)}, or drift.COLUMN, missing_rate.COLUMN, performance.METRIC, estimated.METRIC)";
        }
    }
}

/// <summary>A webhook alerts are posted to as JSON.</summary>
/// <param name="Url">The address.</param>
/// <param name="SecretEnv">The environment variable of the server holding the HMAC key that signs each body; null sends unsigned.</param>
public sealed record WebhookTarget(string Url, string? SecretEnv);

/// <summary>
/// The closed loop: when the alert <see cref="OnAlert"/> fires, <see cref="Pipeline"/> retrains on the newest data and
/// registers a challenger of <see cref="Model"/>; challenger and champion are evaluated on the latest version of
/// <see cref="Holdout"/>; a challenger that passes the gate serves as a canary and is promoted after enough healthy
/// requests, or rolled back.
/// </summary>
public sealed record RetrainPolicy
{
    /// <summary>The alert rule that triggers retraining; null when only a schedule or a manual run starts it.</summary>
    public string? OnAlert { get; init; }

    /// <summary>A Quartz cron expression (seconds first) on which retraining runs; null for none.</summary>
    public string? Schedule { get; init; }

    /// <summary>A dataset whose every new version triggers retraining; null for none.</summary>
    public string? OnNewVersion { get; init; }

    /// <summary>The retraining pipeline file.</summary>
    public required string Pipeline { get; init; }

    /// <summary>Parameters passed to the pipeline.</summary>
    public IReadOnlyDictionary<string, string> Params { get; init; } = new Dictionary<string, string>();

    /// <summary>The registered model the pipeline adds the challenger to.</summary>
    public required string Model { get; init; }

    /// <summary>The dataset whose latest version both models are evaluated on.</summary>
    public required string Holdout { get; init; }

    /// <summary>The metric the gate compares; null for the task's main metric.</summary>
    public string? Metric { get; init; }

    /// <summary>The relative improvement over the champion the challenger must reach (0.02: 2% better).</summary>
    public double MinImprovement { get; init; }

    /// <summary>Columns whose slices must not regress.</summary>
    public IReadOnlyList<string> Slices { get; init; } = [];

    /// <summary>The largest relative regression allowed on any slice.</summary>
    public double MaxSliceRegression { get; init; } = 0.05;

    /// <summary>The share of traffic the challenger serves as a canary.</summary>
    public int CanaryPercent { get; init; } = 20;

    /// <summary>Canary requests to observe before deciding.</summary>
    public int CanaryRequests { get; init; } = 200;

    /// <summary>The canary's largest acceptable share of failed requests.</summary>
    public double MaxErrorRate { get; init; } = 0.01;

    /// <summary>The canary's largest acceptable 99th-percentile latency, in milliseconds.</summary>
    public double MaxLatencyMs { get; init; } = 250;

    /// <summary>
    /// Steps that wait for a person: <c>canary</c> (between the gate and the canary) and <c>promotion</c> (between a
    /// healthy canary and promotion). A maintainer of the model approves or rejects with <c>cairn policies approve|reject</c>.
    /// </summary>
    public IReadOnlyList<string> ApproveBefore { get; init; } = [];

    /// <summary>The steps that may wait for approval.</summary>
    public static readonly IReadOnlyList<string> ApprovalSteps = ["canary", "promotion"];

    internal IEnumerable<string> Problems(IReadOnlyList<AlertRule> alerts)
    {
        if (OnAlert is { } name && alerts.All(a => a.Name != name))
        {
            yield return $"policy: on_alert names '{name}', which is not one of the monitor's alerts";
        }

        if (OnNewVersion is { } dataset && !Names.IsValid(dataset))
        {
            yield return $"policy: on_new_version '{dataset}' is not a dataset name";
        }

        if (CanaryPercent is < 1 or > 99)
        {
            yield return $"policy: canary_percent must be 1-99, not {CanaryPercent}";
        }

        if (CanaryRequests < 1)
        {
            yield return "policy: canary_requests must be at least 1";
        }

        foreach (var step in ApproveBefore.Where(s => !ApprovalSteps.Contains(s)))
        {
            yield return $"policy: approve_before names '{step}'; the steps that can wait for approval are canary and promotion";
        }

        if (MinImprovement < 0 || MaxSliceRegression < 0)
        {
            yield return "policy: min_improvement and max_slice_regression cannot be negative";
        }
    }
}

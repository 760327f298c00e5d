using Cairn.Core.Evaluation;

namespace Cairn.Core.Monitoring;

/// <summary>Where a policy run stands.</summary>
public enum PolicyRunState
{
    /// <summary>Retraining, evaluating and gating the challenger.</summary>
    Training,

    /// <summary>The challenger serves a share of traffic as a canary and is being watched.</summary>
    Canary,

    /// <summary>The challenger became the champion.</summary>
    Promoted,

    /// <summary>The challenger did not pass the gate; nothing changed in serving.</summary>
    Rejected,

    /// <summary>The canary broke the error-rate or latency bounds and was taken out of serving.</summary>
    RolledBack,

    /// <summary>A step could not be carried out (the pipeline failed, no challenger was registered, ...).</summary>
    Failed,

    /// <summary>Waiting for a person to approve or reject the next step (<see cref="PolicyRun.Awaiting"/>).</summary>
    AwaitingApproval,
}

/// <summary>One step of a policy run, as it happened.</summary>
/// <param name="At">When (by the store's clock).</param>
/// <param name="Step"><c>triggered</c>, <c>retrained</c>, <c>evaluated</c>, <c>gate</c>, <c>awaiting_approval</c>, <c>approved</c>, <c>rejected</c>, <c>canary</c>, <c>promoted</c>, <c>rolled_back</c> or <c>failed</c>.</param>
/// <param name="Message">What happened, in words.</param>
public sealed record PolicyEvent(DateTimeOffset At, string Step, string Message);

/// <summary>The gate's verdict on a challenger.</summary>
/// <param name="Metric">The metric compared.</param>
/// <param name="Champion">The champion's value on the holdout.</param>
/// <param name="Challenger">The challenger's value on the holdout.</param>
/// <param name="Improvement">The challenger's relative improvement (positive is better, whichever way the metric points).</param>
/// <param name="Passed">Whether the challenger may go to canary.</param>
/// <param name="Reasons">Why it did not pass; empty when it did.</param>
public sealed record GateResult(string Metric, double Champion, double Challenger, double Improvement, bool Passed, IReadOnlyList<string> Reasons);

/// <summary>
/// One turn of a deployment's closed loop: what triggered it, the pipeline run that retrained, the champion and
/// challenger versions, the gate's verdict, the canary, and every step as an event.
/// </summary>
public sealed record PolicyRun
{
    /// <summary>The run's id.</summary>
    public required string Id { get; init; }

    /// <summary>The monitored deployment.</summary>
    public required string Deployment { get; init; }

    /// <summary>What started it: <c>alert:RULE</c>, <c>schedule</c>, <c>dataset:NAME@N</c> or <c>manual</c>.</summary>
    public required string Trigger { get; init; }

    /// <summary>Where it stands.</summary>
    public PolicyRunState State { get; init; } = PolicyRunState.Training;

    /// <summary>When it started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When it last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Bumped by every change, so that two servers cannot both move a run on.</summary>
    public int Revision { get; init; } = 1;

    /// <summary>The process ("host:pid") carrying the run through retraining, so that one it left behind when it died can be ended.</summary>
    public string? Process { get; init; }

    /// <summary>The registered model the challenger belongs to.</summary>
    public required string Model { get; init; }

    /// <summary>The version serving as champion when the run started.</summary>
    public int? Champion { get; init; }

    /// <summary>The version the pipeline registered.</summary>
    public int? Challenger { get; init; }

    /// <summary>The retraining pipeline's run.</summary>
    public string? PipelineRun { get; init; }

    /// <summary>The latest version of the policy's watched dataset when the run started (so the next version triggers the next run).</summary>
    public int? DataVersion { get; init; }

    /// <summary>The dataset version both models were evaluated on.</summary>
    public string? Holdout { get; init; }

    /// <summary>The gate's verdict.</summary>
    public GateResult? Gate { get; init; }

    /// <summary>When the challenger started serving as a canary.</summary>
    public DateTimeOffset? CanaryStartedAt { get; init; }

    /// <summary>Every step so far, oldest first.</summary>
    public IReadOnlyList<PolicyEvent> Events { get; init; } = [];

    /// <summary>The step waiting for approval (<c>canary</c> or <c>promotion</c>) while the run is <see cref="PolicyRunState.AwaitingApproval"/>.</summary>
    public string? Awaiting { get; init; }

    /// <summary>Whether the run is still going (one per deployment at a time).</summary>
    public bool Active => State is PolicyRunState.Training or PolicyRunState.Canary or PolicyRunState.AwaitingApproval;

    /// <summary>The run one step later.</summary>
    public PolicyRun Then(DateTimeOffset at, string step, string message, PolicyRunState? state = null) =>
        this with { State = state ?? State, UpdatedAt = at, Events = [.. Events, new PolicyEvent(at, step, message)] };
}

/// <summary>The gate between a retrained challenger and the champion it would replace.</summary>
public static class PolicyGate
{
    /// <summary>Slices with fewer holdout rows are too noisy to judge and are not compared.</summary>
    public const int MinSliceRows = 30;

    /// <summary>
    /// Compares the two models' evaluations on the same holdout: the challenger must improve the policy's metric by at
    /// least <see cref="RetrainPolicy.MinImprovement"/> (relative), and regress on no slice of the policy's columns by
    /// more than <see cref="RetrainPolicy.MaxSliceRegression"/>.
    /// </summary>
    public static GateResult Decide(RetrainPolicy policy, EvaluationReport champion, EvaluationReport challenger)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(champion);
        ArgumentNullException.ThrowIfNull(challenger);
        var metric = policy.Metric ?? ModelEvaluator.MainMetric(challenger.Task);
        if (!champion.Metrics.TryGetValue(metric, out var before) || !challenger.Metrics.TryGetValue(metric, out var after))
        {
            return new GateResult(metric, double.NaN, double.NaN, double.NaN, false,
                [$"the evaluation has no metric '{metric}' (it has {string.Join(", ", challenger.Metrics.Keys.Order(StringComparer.Ordinal))})"]);
        }

        var reasons = new List<string>();
        if (!double.IsFinite(after))
        {
            reasons.Add($"the challenger's {metric} is {after}");
        }

        var improvement = Improvement(metric, before, after);
        if (double.IsFinite(after) && !(improvement >= policy.MinImprovement))
        {
            reasons.Add($"{metric} {Show(after)} vs the champion's {Show(before)}: {Percent(improvement)} better, the policy asks for {Percent(policy.MinImprovement)}");
        }

        var theirs = (champion.Slices ?? []).Where(s => s.Rows >= MinSliceRows).ToDictionary(s => (s.Column, s.Value));
        foreach (var slice in (challenger.Slices ?? []).Where(s => s.Rows >= MinSliceRows && policy.Slices.Contains(s.Column, StringComparer.Ordinal)))
        {
            if (theirs.TryGetValue((slice.Column, slice.Value), out var old) && slice.Metrics.TryGetValue(metric, out var mine) && old.Metrics.TryGetValue(metric, out var was)
                && -Improvement(metric, was, mine) > policy.MaxSliceRegression)
            {
                reasons.Add($"{slice.Column}={slice.Value} ({slice.Rows} rows): {metric} {Show(mine)} vs {Show(was)}, {Percent(-Improvement(metric, was, mine))} worse " +
                    $"(at most {Percent(policy.MaxSliceRegression)} allowed)");
            }
        }

        return new GateResult(metric, before, after, improvement, reasons.Count == 0, reasons);
    }

    /// <summary>How much better <paramref name="after"/> is than <paramref name="before"/>, relative to it, whichever way the metric points.</summary>
    public static double Improvement(string metric, double before, double after)
    {
        var gain = ModelEvaluator.LowerIsBetter.Contains(metric) ? before - after : after - before;
        return before == 0 ? (gain == 0 ? 0 : Math.Sign(gain) * double.PositiveInfinity) : gain / Math.Abs(before);
    }

    /// <summary>A share as a percentage with one decimal, the same in every culture.</summary>
    public static string Percent(double share) => (share * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "%";

    private static string Show(double value) => value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
}

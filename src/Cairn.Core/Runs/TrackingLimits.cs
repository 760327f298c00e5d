using System.Globalization;

namespace Cairn.Core.Runs;

/// <summary>The limits on what one call may log, the same as MLflow's, so MLflow clients behave alike on both.</summary>
public static class TrackingLimits
{
    /// <summary>Metrics in one batch.</summary>
    public const int MaxMetricsPerBatch = 1000;

    /// <summary>Params in one batch.</summary>
    public const int MaxParamsPerBatch = 100;

    /// <summary>Tags in one batch.</summary>
    public const int MaxTagsPerBatch = 100;

    /// <summary>Metrics, params and tags together in one batch.</summary>
    public const int MaxEntitiesPerBatch = 1000;

    /// <summary>Characters in a metric, param or tag key.</summary>
    public const int MaxKeyLength = 250;

    /// <summary>Characters in a param value.</summary>
    public const int MaxParamValueLength = 6000;

    /// <summary>Characters in a tag value.</summary>
    public const int MaxTagValueLength = 8000;

    /// <summary>Checks a batch against every limit and reports all violations together.</summary>
    public static void Validate(IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValuePair<string, string>> parameters, IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(tags);
        var problems = new List<string>();
        Count(problems, "metrics", metrics.Count, MaxMetricsPerBatch);
        Count(problems, "params", parameters.Count, MaxParamsPerBatch);
        Count(problems, "tags", tags.Count, MaxTagsPerBatch);
        Count(problems, "metrics, params and tags together", metrics.Count + parameters.Count + tags.Count, MaxEntitiesPerBatch);
        foreach (var metric in metrics)
        {
            Key(problems, "metric", metric.Key);
        }

        foreach (var (key, value) in parameters)
        {
            Key(problems, "param", key);
            Value(problems, "param", key, value, MaxParamValueLength);
        }

        foreach (var (key, value) in tags)
        {
            Key(problems, "tag", key);
            Value(problems, "tag", key, value, MaxTagValueLength);
        }

        foreach (var duplicate in parameters.GroupBy(p => p.Key).Where(g => g.Select(p => p.Value).Distinct().Count() > 1))
        {
            problems.Add($"param '{duplicate.Key}' is given different values in one batch");
        }

        if (problems.Count > 0)
        {
            throw CairnException.Invalid(string.Join("; ", problems.Take(20)) + (problems.Count > 20 ? $"; and {problems.Count - 20} more" : "") + ".");
        }
    }

    /// <summary>Checks one key.</summary>
    public static void ValidateKey(string? key, string what)
    {
        var problems = new List<string>();
        Key(problems, what, key);
        if (problems.Count > 0)
        {
            throw CairnException.Invalid(problems[0] + ".");
        }
    }

    private static void Count(List<string> problems, string what, int count, int limit)
    {
        if (count > limit)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"a batch may hold at most {limit} {what}, not {count}"));
        }
    }

    private static void Key(List<string> problems, string what, string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            problems.Add($"a {what} key is missing or empty");
        }
        else if (key.Length > MaxKeyLength)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{what} key '{key[..40]}…' has {key.Length} characters; the limit is {MaxKeyLength}"));
        }
        else if (key.Contains("..", StringComparison.Ordinal) || key.StartsWith('/') || key.Any(c => char.IsControl(c)))
        {
            problems.Add($"{what} key '{key}' is not valid: no '..', no leading '/', no control characters");
        }
    }

    private static void Value(List<string> problems, string what, string key, string? value, int limit)
    {
        if (value is null)
        {
            problems.Add($"{what} '{key}' has no value");
        }
        else if (value.Length > limit)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{what} '{key}' has a value of {value.Length} characters; the limit is {limit}"));
        }
    }
}

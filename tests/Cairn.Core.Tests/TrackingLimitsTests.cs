using Cairn.Core.Runs;

namespace Cairn.Core.Tests;

public sealed class TrackingLimitsTests
{
    private static Metric M(string key) => new(key, 1, 0, DateTimeOffset.UnixEpoch);

    private static KeyValuePair<string, string> P(string key, string value) => new(key, value);

    [Fact]
    public void Validate_AcceptsABatchAtEveryLimit()
    {
        TrackingLimits.Validate(
            [.. Enumerable.Range(0, 800).Select(i => M($"m{i}"))],
            [.. Enumerable.Range(0, 100).Select(i => P($"p{i}", new string('v', TrackingLimits.MaxParamValueLength)))],
            [.. Enumerable.Range(0, 100).Select(i => P(new string('k', TrackingLimits.MaxKeyLength - 4) + i.ToString("000", System.Globalization.CultureInfo.InvariantCulture), "v"))]);
    }

    [Fact]
    public void Validate_ReportsEveryViolationTogether()
    {
        var e = Assert.Throws<CairnException>(() => TrackingLimits.Validate(
            [.. Enumerable.Range(0, 1001).Select(i => M($"m{i}"))],
            [P("", "x"), P("ok", new string('v', 6001))],
            [P("../escape", "v"), P("t", new string('v', 8001))]));

        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.Contains("at most 1000 metrics, not 1001", e.Message);
        Assert.Contains("at most 1000 metrics, params and tags together", e.Message);
        Assert.Contains("a param key is missing or empty", e.Message);
        Assert.Contains("param 'ok' has a value of 6001 characters; the limit is 6000", e.Message);
        Assert.Contains("tag key '../escape' is not valid", e.Message);
        Assert.Contains("the limit is 8000", e.Message);
    }

    [Fact]
    public void Validate_RejectsTwoValuesForOneParamInABatch_ButAllowsARepeat()
    {
        TrackingLimits.Validate([], [P("a", "1"), P("a", "1")], []);

        Assert.Contains("different values", Assert.Throws<CairnException>(() => TrackingLimits.Validate([], [P("a", "1"), P("a", "2")], [])).Message);
    }
}

using Cairn.Core.Runs;

namespace Cairn.Core.Tests;

public sealed class RunFilterTests
{
    [Fact]
    public void Parse_ReadsMlflowsLanguage()
    {
        var filter = RunFilter.Parse("metrics.auc > 0.9 and params.trainer = 'lightgbm' and tags.team LIKE 'fraud%'");

        var and = Assert.IsType<RunFilter.And>(filter);
        var left = Assert.IsType<RunFilter.And>(and.Left);
        var auc = Assert.IsType<RunFilter.Comparison>(left.Left);
        Assert.Equal((new RunKey(RunField.Metric, "auc"), ">", 0.9), (auc.Key, auc.Operator, auc.Values[0]));
        Assert.Equal("lightgbm", Assert.IsType<RunFilter.Comparison>(left.Right).Values[0]);
        Assert.Equal("LIKE", Assert.IsType<RunFilter.Comparison>(and.Right).Operator);
    }

    [Fact]
    public void Parse_GoesBeyondMlflow_WithOrParenthesesInAndIsNull()
    {
        var filter = RunFilter.Parse("(params.model IN ('a', \"b\") OR metrics.`val loss` <= -1e-3) AND tags.owner IS NOT NULL AND status = 'FINISHED'");

        var and = Assert.IsType<RunFilter.And>(filter);
        var inner = Assert.IsType<RunFilter.And>(and.Left);
        var or = Assert.IsType<RunFilter.Or>(inner.Left);
        Assert.Equal(["a", "b"], Assert.IsType<RunFilter.Comparison>(or.Left).Values);
        var metric = Assert.IsType<RunFilter.Comparison>(or.Right);
        Assert.Equal(new RunKey(RunField.Metric, "val loss"), metric.Key);
        Assert.Equal(-0.001, metric.Values[0]);
        Assert.Equal("IS NOT NULL", Assert.IsType<RunFilter.Comparison>(inner.Right).Operator);
        Assert.Equal(new RunKey(RunField.Attribute, "status"), Assert.IsType<RunFilter.Comparison>(and.Right).Key);
    }

    [Theory]
    [InlineData("metrics.auc >", 14, "expected a number or a quoted string")]
    [InlineData("metrics.auc = 'high'", 13, "compare it with a number")]
    [InlineData("params.lr > '0.1'", 11, "params.lr is text")]
    [InlineData("auc > 0.9", 1, "needs a prefix")]
    [InlineData("metrics.auc > 0.9 params.x = 'y'", 19, "expected AND, OR or the end")]
    [InlineData("(metrics.auc > 0.9", 19, "expected ')'")]
    [InlineData("tags.t = 'open", 10, "never closed")]
    [InlineData("attributes.colour = 'red'", 1, "not a run attribute")]
    [InlineData("metrics.auc LIKE '1%'", 13, "LIKE does not apply")]
    [InlineData("params.x ~ 'y'", 10, "expected an operator")]
    public void Parse_Errors_PointAtThePosition(string filter, int position, string message)
    {
        var e = Assert.Throws<CairnException>(() => RunFilter.Parse(filter));

        Assert.Contains($"at position {position}:", e.Message);
        Assert.Contains(message, e.Message);
        Assert.Contains(new string(' ', position - 1) + "^", e.Message);
    }

    [Theory]
    [InlineData("metrics.auc DESC", RunField.Metric, "auc", true)]
    [InlineData("params.lr", RunField.Param, "lr", false)]
    [InlineData("attributes.start_time asc", RunField.Attribute, "start_time", false)]
    public void ParseOrderBy_ReadsKeyAndDirection(string text, RunField field, string name, bool descending)
    {
        Assert.Equal((new RunKey(field, name), descending), RunFilter.ParseOrderBy(text));
    }
}

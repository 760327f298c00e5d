using Cairn.Core.Search;

namespace Cairn.Core.Tests;

public sealed class FilterTests
{
    [Fact]
    public void Parse_ReadsMlflowsLanguage()
    {
        var filter = Filter.Parse("metrics.auc > 0.9 and params.trainer = 'lightgbm' and tags.team LIKE 'fraud%'", FilterVocabulary.Runs);

        var and = Assert.IsType<Filter.And>(filter);
        var left = Assert.IsType<Filter.And>(and.Left);
        var auc = Assert.IsType<Filter.Comparison>(left.Left);
        Assert.Equal((new FilterKey(FilterField.Metric, "auc", true), ">", 0.9), (auc.Key, auc.Operator, auc.Values[0]));
        Assert.Equal("lightgbm", Assert.IsType<Filter.Comparison>(left.Right).Values[0]);
        Assert.Equal("LIKE", Assert.IsType<Filter.Comparison>(and.Right).Operator);
    }

    [Fact]
    public void Parse_GoesBeyondMlflow_WithOrParenthesesInAndIsNull()
    {
        var filter = Filter.Parse("(params.model IN ('a', \"b\") OR metrics.`val loss` <= -1e-3) AND tags.owner IS NOT NULL AND status = 'FINISHED'", FilterVocabulary.Runs);

        var and = Assert.IsType<Filter.And>(filter);
        var inner = Assert.IsType<Filter.And>(and.Left);
        var or = Assert.IsType<Filter.Or>(inner.Left);
        Assert.Equal(["a", "b"], Assert.IsType<Filter.Comparison>(or.Left).Values);
        var metric = Assert.IsType<Filter.Comparison>(or.Right);
        Assert.Equal(new FilterKey(FilterField.Metric, "val loss", true), metric.Key);
        Assert.Equal(-0.001, metric.Values[0]);
        Assert.Equal("IS NOT NULL", Assert.IsType<Filter.Comparison>(inner.Right).Operator);
        Assert.Equal(new FilterKey(FilterField.Attribute, "status", false), Assert.IsType<Filter.Comparison>(and.Right).Key);
    }

    [Theory]
    [InlineData("metrics.auc >", 14, "expected a number or a quoted string")]
    [InlineData("metrics.auc = 'high'", 13, "compare it with a number")]
    [InlineData("params.lr > '0.1'", 11, "params.lr is text")]
    [InlineData("auc > 0.9", 1, "need a prefix")]
    [InlineData("metrics.auc > 0.9 params.x = 'y'", 19, "expected AND, OR or the end")]
    [InlineData("(metrics.auc > 0.9", 19, "expected ')'")]
    [InlineData("tags.t = 'open", 10, "never closed")]
    [InlineData("attributes.colour = 'red'", 1, "not a run attribute")]
    [InlineData("metrics.auc LIKE '1%'", 13, "LIKE does not apply")]
    [InlineData("params.x ~ 'y'", 10, "expected an operator")]
    [InlineData("datasets.size = 3", 1, "not something a run's dataset inputs have")]
    public void Parse_Errors_PointAtThePosition(string filter, int position, string message)
    {
        var e = Assert.Throws<CairnException>(() => Filter.Parse(filter, FilterVocabulary.Runs));

        Assert.Contains($"at position {position}:", e.Message);
        Assert.Contains(message, e.Message);
        Assert.Contains(new string(' ', position - 1) + "^", e.Message);
    }

    [Theory]
    [InlineData(100_000, "nest deeper than the limit of 20")]
    [InlineData(21, "nest deeper than the limit of 20")]
    public void Parse_DeepNesting_IsRefusedBeforeItRecurses(int depth, string message)
    {
        var filter = new string('(', depth) + "metrics.auc > 0.9" + new string(')', depth);

        var e = Assert.Throws<CairnException>(() => Filter.Parse(filter, FilterVocabulary.Runs));

        Assert.Contains(message, e.Message);
        Assert.True(e.Message.Length < 500, "the error quotes an excerpt, not the whole filter");
    }

    [Fact]
    public void Parse_AtTheLimits_Parses()
    {
        var nested = new string('(', Filter.MaxDepth) + "metrics.auc > 0.9" + new string(')', Filter.MaxDepth);
        var terms = string.Join(" OR ", Enumerable.Range(0, Filter.MaxTerms).Select(i => $"params.p{i} = 'x'"));
        var values = "params.p IN (" + string.Join(", ", Enumerable.Range(0, Filter.MaxValues).Select(i => $"'{i}'")) + ")";

        Assert.IsType<Filter.Comparison>(Filter.Parse(nested, FilterVocabulary.Runs));
        Assert.IsType<Filter.Or>(Filter.Parse(terms, FilterVocabulary.Runs));
        Assert.Equal(Filter.MaxValues, Assert.IsType<Filter.Comparison>(Filter.Parse(values, FilterVocabulary.Runs)).Values.Count);
    }

    [Theory]
    [InlineData(201, 0, "more than the limit of 200 comparisons")]
    [InlineData(1, 100_000, "limit is 500,000")]
    [InlineData(1, 10_001, "more than the limit of 10,000 values")]
    public void Parse_TooManyTermsOrValues_NamesTheLimit(int terms, int inValues, string message)
    {
        var filter = inValues > 0
            ? "params.p IN (" + string.Join(",", Enumerable.Range(0, inValues).Select(i => $"'{i}'")) + ")"
            : string.Join(" AND ", Enumerable.Range(0, terms).Select(i => $"metrics.m{i} > {i}"));

        var e = Assert.Throws<CairnException>(() => Filter.Parse(filter, FilterVocabulary.Runs));

        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("metrics.auc DESC", FilterField.Metric, "auc", true)]
    [InlineData("params.lr", FilterField.Param, "lr", false)]
    [InlineData("attributes.start_time asc", FilterField.Attribute, "start_time", false)]
    public void ParseOrderBy_ReadsKeyAndDirection(string text, FilterField field, string name, bool descending)
    {
        Assert.Equal((new FilterKey(field, name, field == FilterField.Metric || name == "start_time"), descending), Filter.ParseOrderBy(text, FilterVocabulary.Runs));
    }

    [Fact]
    public void Parse_RegistryVocabulary_KnowsNamesAndTagsButNotMetrics()
    {
        var filter = Filter.Parse("name LIKE 'fraud%' AND tags.team = 'risk' AND version_number >= 2", FilterVocabulary.ModelVersions);

        var and = Assert.IsType<Filter.And>(filter);
        Assert.Equal(FilterVocabulary.ModelVersions.Attribute("version_number"), Assert.IsType<Filter.Comparison>(and.Right).Key);
        Assert.True(Assert.IsType<Filter.Comparison>(and.Right).Key.IsNumeric);

        var e = Assert.Throws<CairnException>(() => Filter.Parse("metrics.auc > 0.9", FilterVocabulary.RegisteredModels));
        Assert.Contains("'metrics' is not a prefix a registered model search knows; use tags. or attributes.", e.Message);
        e = Assert.Throws<CairnException>(() => Filter.Parse("run_id = 'x'", FilterVocabulary.Experiments));
        Assert.Contains("'run_id' is not an experiment attribute", e.Message);
    }
}

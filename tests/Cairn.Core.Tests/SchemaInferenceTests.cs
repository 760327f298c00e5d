using System.Text;
using Cairn.Core.Data;

namespace Cairn.Core.Tests;

public sealed class SchemaInferenceTests
{
    private static TableSchema Infer(string csv) => SchemaInference.Infer(CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(csv)))).Schema;

    private static (TableSchema Schema, long Rows) InferFile(string name)
    {
        using var reader = CsvReader.Open(File.OpenRead(Path.Combine(AppContext.BaseDirectory, "data", name)));
        return SchemaInference.Infer(reader);
    }

    [Fact]
    public void Infer_RecognisesEachColumnType()
    {
        var schema = Infer("""
            n,b,c,t,d
            1.5,true,red,the quick brown fox,2011-01-01
            -2e3,False,blue,jumps over the lazy dog,2011-01-02T10:00:00
            7,TRUE,red,and runs far away,2012-12-31 23:00
            """);

        Assert.Equal(
            [ColumnType.Numeric, ColumnType.Boolean, ColumnType.Categorical, ColumnType.Text, ColumnType.DateTime],
            schema.Columns.Select(c => c.Type));
        Assert.Equal(["blue", "red"], schema.Find("c")!.Categories);
    }

    [Fact]
    public void Infer_Roles_FromNamesAndValues()
    {
        var rows = string.Join("\n", Enumerable.Range(1, 3000).Select(i => $"{i},{i % 7},u{i},2024-01-{(i % 28) + 1:00},{i % 2},{i % 5}"));
        var schema = Infer($"customer_id,store_id,userId,when,label,score\n{rows}\n");

        Assert.Equal(
            [ColumnRole.Id, ColumnRole.Feature, ColumnRole.Id, ColumnRole.Timestamp, ColumnRole.Label, ColumnRole.Feature],
            schema.Columns.Select(c => c.Role));
        Assert.Equal(ColumnRole.Feature, Infer("id,x\n1,a\n1,b\n").Columns[0].Role);
    }

    [Fact]
    public void Infer_DistinctCounts_AreExactWhenFewAndEstimatedWhenMany()
    {
        var many = string.Join("\n", Enumerable.Range(0, 50_000).Select(i => $"{i * 0.5},{(i % 3 == 0 ? "a" : "b")}"));
        var schema = Infer($"x,k\n{many}\n");

        Assert.InRange(schema.Columns[0].DistinctCount, 50_000 * 0.95, 50_000 * 1.05);
        Assert.Equal(2, schema.Columns[1].DistinctCount);
    }

    [Fact]
    public void Infer_MissingValues_MakeAColumnNullableWithoutChangingItsType()
    {
        var schema = Infer("age,job\n39,clerk\n?,?\n,manager\nNA,clerk\n");

        var age = schema.Find("age")!;
        Assert.Equal(ColumnType.Numeric, age.Type);
        Assert.True(age.Nullable);
        Assert.Equal(3, age.MissingCount);
        var job = schema.Find("job")!;
        Assert.Equal(ColumnType.Categorical, job.Type);
        Assert.Equal(1, job.MissingCount);
        Assert.Equal(2, job.DistinctCount);
    }

    [Fact]
    public void Infer_ColumnWithoutMissingValues_IsNotNullable()
    {
        var schema = Infer("x\n1\n2\n");

        Assert.False(schema.Columns[0].Nullable);
    }

    [Fact]
    public void Infer_NearlyUniqueShortStrings_AreText()
    {
        var rows = string.Join("\n", Enumerable.Range(0, 100).Select(i => $"id-{i}"));
        var schema = Infer($"code\n{rows}\n");

        Assert.Equal(ColumnType.Text, schema.Columns[0].Type);
    }

    [Fact]
    public void Infer_OnAdult_FindsTheDocumentedTypes()
    {
        var (schema, rows) = InferFile("adult.csv");

        Assert.Equal(32_561, rows);
        string[] numeric = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"];
        Assert.All(schema.Columns, c => Assert.Equal(numeric.Contains(c.Name) ? ColumnType.Numeric : ColumnType.Categorical, c.Type));
        // The dataset's README counts '?' in these columns.
        Assert.Equal(1_836, schema.Find("workclass")!.MissingCount);
        Assert.Equal(1_843, schema.Find("occupation")!.MissingCount);
        Assert.Equal(583, schema.Find("native_country")!.MissingCount);
        Assert.Equal(["<=50K", ">50K"], schema.Find("income")!.Categories);
    }

    [Fact]
    public void Infer_OnSentences_FindsText()
    {
        var (schema, rows) = InferFile("sentiment_labelled_sentences.csv");

        Assert.Equal(3_000, rows);
        Assert.Equal(ColumnType.Text, schema.Find("text")!.Type);
        Assert.Equal(ColumnType.Numeric, schema.Find("label")!.Type);
        Assert.Equal(ColumnType.Categorical, schema.Find("source")!.Type);
    }
}

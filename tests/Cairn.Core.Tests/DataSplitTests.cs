using System.Text;
using Cairn.Core.Data;
using Cairn.Core.Training;

namespace Cairn.Core.Tests;

public sealed class DataSplitTests
{
    private static (Table Table, TableSchema Schema) Load(string csv)
    {
        var bytes = Encoding.UTF8.GetBytes(csv);
        var schema = SchemaInference.Infer(CsvReader.Open(new MemoryStream(bytes))).Schema;
        return (Table.Load(CsvReader.Open(new MemoryStream(bytes)), schema), schema);
    }

    private static string Rows(IEnumerable<int> ids) =>
        "id,when,y\n" + string.Concat(ids.Select(i => $"u{i},2024-01-01T{i / 3600 % 24:00}:{i / 60 % 60:00}:{i % 60:00},{i % 2}\n"));

    [Fact]
    public void Hash_KeepsEachRowInItsPart_AcrossVersionsAndRowOrder()
    {
        var split = new DataSplit(SplitMethod.Hash, TestFraction: 0.2, ValidationFraction: 0.1, Column: "id");
        var (first, schema) = Load(Rows(Enumerable.Range(0, 5000)));
        var (second, _) = Load(Rows(Enumerable.Range(0, 8000).Reverse()));

        var a = split.Assign(first, schema, seed: 7);
        var b = split.Assign(second, schema, seed: 7);

        var partOfId = Enumerable.Range(0, 8000).ToDictionary(r => ((StringColumn)second["id"]).Values[r]!, r => b[r]);
        Assert.All(Enumerable.Range(0, 5000), r => Assert.Equal(a[r], partOfId[((StringColumn)first["id"]).Values[r]!]));
        Assert.InRange(a.Count(p => p == SplitPart.Test) / 5000.0, 0.17, 0.23);
        Assert.InRange(a.Count(p => p == SplitPart.Validation) / 5000.0, 0.08, 0.12);
        Assert.NotEqual(a, split.Assign(first, schema, seed: 8));
    }

    [Fact]
    public void Time_PutsTheLatestRowsInTest_AndNeverSplitsATimestamp()
    {
        var ids = Enumerable.Range(0, 1000).Select(i => i / 4 * 4);  // four rows share each timestamp
        var (table, schema) = Load(Rows(ids));

        var parts = new DataSplit(SplitMethod.Time, 0.25, 0.25, "when").Assign(table, schema, seed: 0);

        var times = ((StringColumn)table["when"]).Values;
        string Latest(SplitPart part) => Enumerable.Range(0, parts.Length).Where(r => parts[r] == part).Max(r => times[r])!;
        string Earliest(SplitPart part) => Enumerable.Range(0, parts.Length).Where(r => parts[r] == part).Min(r => times[r])!;
        Assert.True(string.CompareOrdinal(Latest(SplitPart.Train), Earliest(SplitPart.Validation)) < 0);
        Assert.True(string.CompareOrdinal(Latest(SplitPart.Validation), Earliest(SplitPart.Test)) < 0);
        Assert.Equal(252, parts.Count(p => p == SplitPart.Test)); // 250 plus the two rows that share the cut's timestamp
    }

    [Fact]
    public void Random_IsSeededAndStratified_AndExcludesUnlabelledRows()
    {
        var (table, schema) = Load(Rows(Enumerable.Range(0, 1000)));
        string?[] labels = [.. Enumerable.Range(0, 1000).Select(i => i == 5 ? null : i % 10 == 0 ? "rare" : "common")];

        var parts = new DataSplit(TestFraction: 0.2).Assign(table, schema, seed: 42, labels);

        Assert.Equal(parts, new DataSplit(TestFraction: 0.2).Assign(table, schema, seed: 42, labels));
        Assert.Equal(SplitPart.Excluded, parts[5]);
        Assert.Equal(20, Enumerable.Range(0, 1000).Count(r => parts[r] == SplitPart.Test && labels[r] == "rare"));
    }

    [Fact]
    public void Spec_ParsesSplits_AndReportsEveryProblem()
    {
        var spec = TrainingSpec.Parse("dataset: d\nlabel: y\ntask: binary\nsplit:\n  method: hash\n  column: id\n  test_fraction: 0.3\n  validation_fraction: 0.1\n");
        Assert.Equal(new DataSplit(SplitMethod.Hash, 0.3, 0.1, "id"), spec.Split);
        Assert.Equal("hash", spec.ToParams()["split.method"]);

        var e = Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: y\ntask: binary\nsplit:\n  method: time\n  validation_fraction: 0.9\n"));
        Assert.Contains("the time split needs a timestamp column ('split.column'", e.Message);
        Assert.Contains("'split.validation_fraction' is 0.9", e.Message);
        Assert.Contains("use random, hash or time", Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: y\ntask: binary\nsplit:\n  method: 2\n")).Message);
    }
}

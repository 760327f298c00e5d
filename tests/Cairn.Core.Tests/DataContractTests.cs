using System.Text;
using Cairn.Core.Data;

namespace Cairn.Core.Tests;

public sealed class DataContractTests
{
    private static (bool Passed, long Rows, IReadOnlyList<Violation> Violations) Validate(string yaml, string csv) =>
        DataContract.Parse(yaml).Validate(CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(csv))));

    [Fact]
    public void Validate_ReportsEveryRuleOnce_WithCountsAndTheFirstExamples()
    {
        const string yaml = """
            rows: {min: 1, max: 5}
            columns:
            - name: n
              type: numeric
              nullable: false
              min: 0
            - name: when
              type: datetime
              earliest: 2024-01-01T00:00:00Z
            """;

        var (passed, rows, violations) = Validate(yaml, "n,when,extra\n1,2024-02-01,x\nabc,2023-12-31,x\n-1,soon,x\n,2024-01-05,x\n-2,2024-01-06,x\n7,2024-01-07,x\n");

        Assert.False(passed);
        Assert.Equal(6, rows);
        var byRule = violations.ToDictionary(v => $"{v.Column}:{v.Rule}");
        Assert.Equal([":columns", ":rows", "n:min", "n:nullable", "n:type", "when:min", "when:type"], byRule.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, byRule["n:min"].Count);
        Assert.Equal(["row 2: 'abc'"], byRule["n:type"].Examples);
        Assert.Contains("extra", byRule[":columns"].Message);
        Assert.Contains("2024-01-01T00:00:00+00:00", byRule["when:min"].Message);
    }

    [Fact]
    public void Infer_ThenToYaml_ParsesBackToTheSameRules()
    {
        var csv = "id,kind,score\n1,a,0.5\n2,b,\n3,a,2.5\n";
        var schema = SchemaInference.Infer(CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(csv)))).Schema;
        var version = new DatasetVersion("d", 1, ContentHash.Of([1]), 10, 3, "d.csv", schema, DateTimeOffset.UnixEpoch);
        var profile = Statistics.Profiler.Profile(() => CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(csv))), schema, 1);

        var contract = DataContract.Parse(DataContract.Infer(version, profile).ToYaml());

        Assert.Equal(["id", "kind", "score"], contract.Columns.Select(c => c.Name));
        Assert.True(contract.Columns[0].Unique);
        Assert.Equal(["a", "b"], contract.Columns[1].Allowed);
        Assert.Equal((0.5, 2.5, 0.334), (contract.Columns[2].Min!.Value, contract.Columns[2].Max!.Value, contract.Columns[2].MaxMissing!.Value));
        Assert.True(contract.Validate(CsvReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(csv)))).Passed);
    }

    [Fact]
    public void Parse_UnknownKeys_AreReportedWithTheirPlace()
    {
        var e = Assert.Throws<CairnException>(() => DataContract.Parse("columns:\n- name: x\n  type: numeric\n  maximum: 3\n"));

        Assert.Contains("line 4", e.Message);
    }
}

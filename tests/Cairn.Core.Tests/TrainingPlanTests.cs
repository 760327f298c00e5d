using System.Text;
using Cairn.Core.Data;
using Cairn.Core.Training;

namespace Cairn.Core.Tests;

public sealed class TrainingPlanTests
{
    private static (DatasetVersion Dataset, Table Table) Data(string csv)
    {
        var bytes = Encoding.UTF8.GetBytes(csv);
        TableSchema schema;
        long rows;
        using (var reader = CsvReader.Open(new MemoryStream(bytes)))
        {
            (schema, rows) = SchemaInference.Infer(reader);
        }

        using var again = CsvReader.Open(new MemoryStream(bytes));
        return (new DatasetVersion("d", 1, ContentHash.Of(bytes), bytes.Length, rows, "d.csv", schema, DateTimeOffset.UnixEpoch), Table.Load(again, schema));
    }

    private static string Rows(int count, Func<int, string> row) => string.Join("\n", Enumerable.Range(0, count).Select(row)) + "\n";

    private static TrainingPlan Plan(string yaml, string csv)
    {
        var (dataset, table) = Data(csv);
        return TrainingPlan.Create(TrainingSpec.Parse(yaml), dataset, table);
    }

    [Fact]
    public void Create_UnknownLabel_ListsTheColumns()
    {
        var e = Assert.Throws<CairnException>(() => Plan("dataset: d\nlabel: income\ntask: binary\n", "a,b\n1,x\n2,y\n"));

        Assert.Contains("label column 'income' is not in d@1; its columns are: a, b", e.Message);
    }

    [Fact]
    public void Create_SingleClassLabel_IsRejected()
    {
        var e = Assert.Throws<CairnException>(() => Plan("dataset: d\nlabel: y\ntask: binary\n", "x,y\n" + Rows(20, i => $"{i},yes")));

        Assert.Contains("single class ('yes')", e.Message);
    }

    [Fact]
    public void Create_ThreeClassesForBinary_SuggestsMulticlass()
    {
        var e = Assert.Throws<CairnException>(() => Plan("dataset: d\nlabel: y\ntask: binary\n", "x,y\n" + Rows(30, i => $"{i},{"abc"[i % 3]}")));

        Assert.Contains("use task: multiclass", e.Message);
    }

    [Fact]
    public void Create_RegressionOnText_IsRejected()
    {
        var e = Assert.Throws<CairnException>(() => Plan("dataset: d\nlabel: y\ntask: regression\n", "x,y\n" + Rows(30, i => $"{i},{"ab"[i % 2]}")));

        Assert.Contains("regression label must be numeric", e.Message);
    }

    [Fact]
    public void Create_DefaultsThePositiveClassToTheSecondInOrder()
    {
        var plan = Plan("dataset: d\nlabel: y\ntask: binary\n", "x,y\n" + Rows(40, i => $"{i},{(i % 4 == 0 ? ">50K" : "<=50K")}"));

        Assert.Equal(["<=50K", ">50K"], plan.Classes);
    }

    [Fact]
    public void Create_OrdersNumericClassesByValue()
    {
        var plan = Plan("dataset: d\nlabel: y\ntask: multiclass\n", "x,y\n" + Rows(40, i => $"{i},{new[] { 2, 10, 9 }[i % 3]}"));

        Assert.Equal(["2", "9", "10"], plan.Classes);
    }

    [Fact]
    public void Create_SplitsDeterministicallyAndStratified()
    {
        const string csv = "x,y\n";
        var data = csv + Rows(1000, i => $"{i},{(i % 5 == 0 ? "pos" : "neg")}");
        var first = Plan("dataset: d\nlabel: y\ntask: binary\nseed: 3\n", data);
        var second = Plan("dataset: d\nlabel: y\ntask: binary\nseed: 3\n", data);
        var other = Plan("dataset: d\nlabel: y\ntask: binary\nseed: 4\n", data);

        Assert.Equal(first.TestRows, second.TestRows);
        Assert.NotEqual(first.TestRows, other.TestRows);
        Assert.Equal(200, first.TestRows.Count);
        Assert.Equal(40, first.TestRows.Count(r => r % 5 == 0));
        Assert.Empty(first.TrainRows.Intersect(first.TestRows));
    }

    [Fact]
    public void Create_DropsRowsWithoutALabel_AndFeaturizesTextColumnsAsText()
    {
        var plan = Plan("dataset: d\nlabel: y\ntask: binary\n",
            "x,note,y\n" + Rows(40, i => $"{i},this is a long free text {i},{(i % 10 == 0 ? "?" : i % 2 == 0 ? "a" : "b")}"));

        Assert.Equal(4, plan.RowsWithoutLabel);
        Assert.Equal(36, plan.TrainRows.Count + plan.TestRows.Count);
        Assert.Equal([("x", ColumnType.Numeric), ("note", ColumnType.Text)], plan.Features.Select(f => (f.Name, f.Type)));
    }

    [Fact]
    public void Create_SelectFeatures_KeepsTheColumnsThatTellTheLabel_AndSaysWhyOthersWentOut()
    {
        // y follows "signal" exactly; "noise" and "constant" carry nothing about it.
        var plan = Plan("dataset: d\nlabel: y\ntask: binary\nfeaturize: {select_features: 1}\n",
            "noise,signal,constant,y\n" + Rows(200, i => $"{(i * 7919) % 13},{(i % 2 == 0 ? "even" : "odd")},1,{(i % 2 == 0 ? "a" : "b")}"));

        Assert.Equal(["signal"], plan.Features.Select(f => f.Name));
        Assert.Contains(plan.Excluded, e => e.Name == "noise" && e.Reason.StartsWith("not among the 1 most informative", StringComparison.Ordinal));
        Assert.Contains(plan.Excluded, e => e.Name == "constant");
    }

    [Fact]
    public void Create_FeaturizationNamingMissingOrWrongColumns_IsRejectedWithEveryProblem()
    {
        var e = Assert.Throws<CairnException>(() => Plan(
            "dataset: d\nlabel: y\ntask: regression\ntrainer: lbfgs_poisson\nfeaturize: {hash: [x], text: [nope]}\nevaluate: {slices: [gone]}\n",
            "x,c,y\n" + Rows(40, i => $"{i},{(i % 3 == 0 ? "p" : "q")},{i - 5}")));

        Assert.Contains("'featurize.hash' names 'x', which is not a categorical feature", e.Message);
        Assert.Contains("'featurize.text' names 'nope', which is not a feature", e.Message);
        Assert.Contains("'evaluate.slices' names 'gone', which is not in the dataset", e.Message);
        Assert.Contains("Poisson regression needs a non-negative label", e.Message);
    }
}

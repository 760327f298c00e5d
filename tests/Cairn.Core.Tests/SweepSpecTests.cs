using Cairn.Core.Training;

namespace Cairn.Core.Tests;

public sealed class SweepSpecTests
{
    private const string Base = "dataset: d\nlabel: y\ntask: binary\ntrainer: lightgbm\nhyperparameters: {num_iterations: 90}\nseed: 5\n";

    [Fact]
    public void Grid_TriesEveryCombination_OverTheBaseSettings()
    {
        var sweep = SweepSpec.Parse(Base + "sweep:\n  method: grid\n  space:\n    num_leaves: [8, 16, 32]\n    learning_rate: [0.05, 0.1]\n");

        var candidates = sweep.Candidates();

        Assert.Equal(6, sweep.Trials);
        Assert.Equal(6, candidates.Count);
        Assert.Equal(6, candidates.Select(c => (c["num_leaves"], c["learning_rate"])).Distinct().Count());
        Assert.All(candidates, c => Assert.Equal(90, c["num_iterations"]));
        Assert.Equal(("auc", true), (sweep.Metric, sweep.Maximize));
    }

    [Fact]
    public void Random_DrawsTheSameTrialsForTheSameSeed_WithinTheRanges_AndWholeSizes()
    {
        const string Yaml = Base + "sweep:\n  trials: 12\n  metric: log_loss\n  early_stopping: successive_halving\n  space:\n" +
            "    num_leaves: {min: 4, max: 64}\n    learning_rate: {min: 0.01, max: 0.3, log: true}\n";

        var first = SweepSpec.Parse(Yaml).Candidates();
        var again = SweepSpec.Parse(Yaml);

        Assert.Equal(first.Select(c => c["learning_rate"]), again.Candidates().Select(c => c["learning_rate"]));
        Assert.Equal(12, first.Count);
        Assert.All(first, c => Assert.InRange(c["learning_rate"], 0.01, 0.3));
        Assert.All(first, c => Assert.Equal(Math.Round(c["num_leaves"]), c["num_leaves"]));
        Assert.False(again.Maximize);
        Assert.Equal(3, again.HalvingReduction);
    }

    [Fact]
    public void Parse_NamesEveryProblem()
    {
        var e = Assert.Throws<CairnException>(() => SweepSpec.Parse(Base +
            "sweep:\n  method: grid\n  trials: 0\n  early_stopping: successive_halving\n  space:\n    depth: [1]\n    learning_rate: {min: 0.3, max: 0.1}\n    num_leaves: {min: 2, max: 9}\n    num_iterations: [10]\n"));

        Assert.Contains("'sweep.space.depth' is not a hyperparameter of lightgbm", e.Message);
        Assert.Contains("'sweep.space.learning_rate' needs numbers min < max", e.Message);
        Assert.Contains("a grid sweep needs a list of values for every hyperparameter", e.Message);
        Assert.Contains("'sweep.trials' is 0", e.Message);
        Assert.Contains("successive halving sets 'num_iterations' itself", e.Message);
        Assert.Contains("no 'sweep' section", Assert.Throws<CairnException>(() => SweepSpec.Parse(Base)).Message);
    }
}

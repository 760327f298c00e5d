using Cairn.Adapters.MLNet;
using Cairn.Adapters.OnnxRuntime;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Training;

namespace Cairn.Adapters.Tests;

public sealed class TrainingAndScoringTests
{
    private static (TrainedModel Model, Table Test) Train(string file, string yaml)
    {
        var dataset = TestData.Describe(file);
        var table = TestData.Load(file, dataset.Schema);
        var spec = TrainingSpec.Parse(yaml);
        var plan = TrainingPlan.Create(spec, dataset, table);
        var test = table.Take(plan.TestRows);
        var model = new MLNetTrainer().Train(new TrainingRequest(spec, plan, table.Take(plan.TrainRows), test), CancellationToken.None);
        return (model, test);
    }

    [Fact]
    public void LightGbm_OnAdult_ReachesKnownQuality_AndOnnxAgreesWithMLNet()
    {
        var (model, test) = Train("adult.csv", "dataset: adult\nlabel: income\ntask: binary\nseed: 7\n");

        Assert.InRange(model.Metrics["auc"], 0.90, 1.0);
        Assert.InRange(model.Metrics["accuracy"], 0.84, 1.0);
        Assert.Equal([">50K"], model.Signature.Classes!.Skip(1));

        using var runtime = new OnnxModelRuntimeFactory().Load(model.OnnxModel, model.Signature);
        var outputs = runtime.Predict(test);
        var labels = outputs.Single(o => o.Name == ModelSignature.PredictedLabel).Strings!;
        var truth = ((StringColumn)test["income"]).Values;
        var accuracy = labels.Zip(truth).Count(p => p.First == p.Second) / (double)test.RowCount;
        Assert.Equal(model.Metrics["accuracy"], accuracy, 2);
    }

    [Fact]
    public void Training_WithTheSameSeed_IsReproducible()
    {
        const string Spec = "dataset: breast_cancer\nlabel: target\ntask: binary\nseed: 11\n";
        var (first, test) = Train("breast_cancer.csv", Spec);
        var (second, _) = Train("breast_cancer.csv", Spec);

        Assert.Equal(first.Metrics, second.Metrics);
        using var a = new OnnxModelRuntimeFactory().Load(first.OnnxModel, first.Signature);
        using var b = new OnnxModelRuntimeFactory().Load(second.OnnxModel, second.Signature);
        Assert.Equal(a.Predict(test)[1].Floats, b.Predict(test)[1].Floats);
    }

    [Fact]
    public void LightGbm_Multiclass_OnIris_PredictsClassNames()
    {
        var (model, test) = Train("iris.csv", "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2}\n");

        Assert.Equal(["0", "1", "2"], model.Signature.Classes);
        using var runtime = new OnnxModelRuntimeFactory().Load(model.OnnxModel, model.Signature);
        var outputs = runtime.Predict(test);
        var labels = outputs.Single(o => o.Name == ModelSignature.PredictedLabel).Strings!;
        Assert.All(labels, l => Assert.Contains(l, model.Signature.Classes!));
        Assert.InRange(model.Metrics["accuracy"], 0.85, 1.0);
    }

    [Fact]
    public void FastTree_Regression_OnDiabetes_ScoresLikeEvaluation()
    {
        var (model, test) = Train("diabetes.csv", "dataset: diabetes\nlabel: target\ntask: regression\ntrainer: fasttree\n");

        using var runtime = new OnnxModelRuntimeFactory().Load(model.OnnxModel, model.Signature);
        var predicted = runtime.Predict(test).Single().Floats!;
        var truth = ((NumericColumn)test["target"]).Values;
        var mae = predicted.Zip(truth).Average(p => Math.Abs(p.First - p.Second));
        Assert.Equal(model.Metrics["mae"], mae, 1);
    }
}

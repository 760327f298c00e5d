using Cairn.Adapters.MLNet;
using Cairn.Adapters.OnnxRuntime;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Training;

namespace Cairn.Adapters.Tests;

public sealed class TrainingAndScoringTests
{
    private static (TrainedModel Model, Table Test) Train(string file, string yaml) => Train(file, yaml, out _);

    private static (TrainedModel Model, Table Test) Train(string file, string yaml, out IReadOnlyDictionary<string, double> metrics)
    {
        var dataset = TestData.Describe(file);
        var table = TestData.Load(file, dataset.Schema);
        var spec = TrainingSpec.Parse(yaml);
        var plan = TrainingPlan.Create(spec, dataset, table);
        var test = table.Take(plan.TestRows);
        var model = new MLNetTrainer().Train(new TrainingRequest(spec, plan, table.Take(plan.TrainRows), test), CancellationToken.None);
        metrics = ModelEvaluator.Evaluate(model.Signature, test, model.TestPredictions, null, EvaluationOptions.MetricsOnly).Metrics;
        return (model, test);
    }

    [Fact]
    public void LightGbm_OnAdult_ReachesKnownQuality_AndOnnxAgreesWithMLNet()
    {
        var (model, test) = Train("adult.csv", "dataset: adult\nlabel: income\ntask: binary\nseed: 7\n", out var metrics);

        Assert.InRange(metrics["auc"], 0.90, 1.0);
        Assert.InRange(metrics["accuracy"], 0.84, 1.0);
        Assert.Equal([">50K"], model.Signature.Classes!.Skip(1));

        using var runtime = new OnnxModelRuntimeFactory().Load(model.OnnxModel, model.Signature);
        var outputs = runtime.Predict(test);
        var labels = outputs.Single(o => o.Name == ModelSignature.PredictedLabel).Strings!;
        var truth = ((StringColumn)test["income"]).Values;
        var accuracy = labels.Zip(truth).Count(p => p.First == p.Second) / (double)test.RowCount;
        Assert.Equal(metrics["accuracy"], accuracy, 2);
    }

    [Fact]
    public void Training_WithTheSameSeed_IsReproducible()
    {
        const string Spec = "dataset: breast_cancer\nlabel: target\ntask: binary\nseed: 11\n";
        var (first, test) = Train("breast_cancer.csv", Spec, out var firstMetrics);
        var (second, _) = Train("breast_cancer.csv", Spec, out var secondMetrics);

        Assert.Equal(firstMetrics, secondMetrics);
        using var a = new OnnxModelRuntimeFactory().Load(first.OnnxModel, first.Signature);
        using var b = new OnnxModelRuntimeFactory().Load(second.OnnxModel, second.Signature);
        Assert.Equal(a.Predict(test)[1].Floats, b.Predict(test)[1].Floats);
    }

    [Fact]
    public void LightGbm_Multiclass_OnIris_PredictsClassNames()
    {
        var (model, test) = Train("iris.csv", "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2}\n", out var metrics);

        Assert.Equal(["0", "1", "2"], model.Signature.Classes);
        using var runtime = new OnnxModelRuntimeFactory().Load(model.OnnxModel, model.Signature);
        var outputs = runtime.Predict(test);
        var labels = outputs.Single(o => o.Name == ModelSignature.PredictedLabel).Strings!;
        Assert.All(labels, l => Assert.Contains(l, model.Signature.Classes!));
        Assert.InRange(metrics["accuracy"], 0.85, 1.0);
    }

    [Fact]
    public void FastTree_Regression_OnDiabetes_ScoresLikeEvaluation()
    {
        var (model, test) = Train("diabetes.csv", "dataset: diabetes\nlabel: target\ntask: regression\ntrainer: fasttree\n", out var metrics);

        using var runtime = new OnnxModelRuntimeFactory().Load(model.OnnxModel, model.Signature);
        var predicted = runtime.Predict(test).Single().Floats!;
        var truth = ((NumericColumn)test["target"]).Values;
        var mae = predicted.Zip(truth).Average(p => Math.Abs(p.First - p.Second));
        Assert.Equal(metrics["mae"], mae, 1);
    }

    [Theory]
    [InlineData("trainer: sdca\nfeaturize: {categorical: hash, hash_bits: 10}", 0.88)]
    [InlineData("trainer: lbfgs_logistic\nhyperparameters: {max_iterations: 40}\nfeaturize: {normalize: mean_variance, hash: [native_country]}", 0.88)]
    [InlineData("trainer: fastforest\nfeaturize: {missing: zero}", 0.85)]
    [InlineData("trainer: lightgbm\nfeaturize: {select_features: 6}", 0.85)]
    public void DeclaredFeaturization_OnAdult_TrainsAndExportsOnnxThatAgrees(string settings, double minimumAuc)
    {
        var (model, test) = Train("adult.csv", $"dataset: adult\nlabel: income\ntask: binary\nignore: [fnlwgt]\n{settings}\n", out var metrics);

        Assert.InRange(metrics["auc"], minimumAuc, 1.0);
        AssertOnnxAgrees(model, test);
    }

    [Fact]
    public void TextFeaturization_OnSentiment_LearnsFromWords_AndServesTheTextAsIs()
    {
        var (model, test) = Train("sentiment_labelled_sentences.csv",
            "dataset: sentiment\nlabel: label\ntask: binary\ntrainer: sdca\nfeatures: [text]\n", out var metrics);

        Assert.Equal(ColumnType.Text, Assert.Single(model.Signature.Inputs).Type);
        Assert.InRange(metrics["accuracy"], 0.75, 1.0);
        AssertOnnxAgrees(model, test);
    }

    [Theory]
    [InlineData("lbfgs_logistic")]
    [InlineData("sdca")]
    [InlineData("fasttree")]
    public void MulticlassTrainers_OnIris_ExportOnnxThatAgrees(string trainer)
    {
        var (model, test) = Train("iris.csv", $"dataset: iris\nlabel: target\ntask: multiclass\ntrainer: {trainer}\nhyperparameters: {{}}\n", out var metrics);

        Assert.InRange(metrics["accuracy"], 0.8, 1.0);
        Assert.InRange(metrics["macro_f1"], 0.8, 1.0);
        AssertOnnxAgrees(model, test);
    }

    [Fact]
    public void PoissonRegression_OnBikeSharingCounts_BeatsTheMean()
    {
        var (model, test) = Train("bike_sharing_hour.csv",
            "dataset: bike\nlabel: cnt\ntask: regression\ntrainer: lbfgs_poisson\nignore: [instant, dteday, casual, registered]\nfeaturize: {text: []}\n", out var metrics);

        Assert.InRange(metrics["r2"], 0.3, 1.0);
        AssertOnnxAgrees(model, test);
    }

    private static void AssertOnnxAgrees(TrainedModel model, Table test)
    {
        using var runtime = new OnnxModelRuntimeFactory().Load(model.OnnxModel, model.Signature);
        var outputs = runtime.Predict(test);
        foreach (var reference in model.TestPredictions)
        {
            var exported = outputs.Single(o => o.Name == reference.Name);
            if (reference.Floats is { } expected)
            {
                var difference = expected.Zip(exported.Floats!).Max(p => Math.Abs(p.First - p.Second) / Math.Max(1, Math.Abs(p.First)));
                Assert.InRange(difference, 0, 1e-3);
            }
            else
            {
                var disagreements = reference.Strings!.Zip(exported.Strings!).Count(p => p.First != p.Second);
                Assert.InRange(disagreements, 0, test.RowCount / 500);
            }
        }
    }
}

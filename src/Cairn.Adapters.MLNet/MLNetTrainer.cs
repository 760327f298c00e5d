using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Cairn.Adapters.MLNet;

/// <summary>Trains with ML.NET: one-hot categoricals, mean-imputed numerics, a tree trainer; evaluates on the hold-out rows and exports ONNX.</summary>
public sealed class MLNetTrainer : IModelTrainer
{
    private const string LabelColumn = "cairn_label";
    private const string FeaturesColumn = "cairn_features";

    /// <inheritdoc />
    public TrainedModel Train(TrainingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (spec, plan) = (request.Spec, request.Plan);
        var ml = new MLContext(seed: spec.Seed);

        var trainView = TableDataView.Create(request.Train, plan.Features, Label(plan, request.Train));
        var testView = TableDataView.Create(request.Test, plan.Features, Label(plan, request.Test));
        var pipeline = Featurize(ml, plan).Append(CreateTrainer(ml, spec, plan));

        var model = pipeline.Fit(trainView);
        cancellationToken.ThrowIfCancellationRequested();
        var metrics = Evaluate(ml, plan.Task, model.Transform(testView));

        // Both serialized forms take only the features as input: callers never send the label.
        var inputView = TableDataView.Create(request.Test, plan.Features);
        using var zip = new MemoryStream();
        ml.Model.Save(model, inputView.Schema, zip);
        using var onnx = new MemoryStream();
        // Exporting only the outputs serving reads lets ONNX Runtime drop every other node: one row scores several times faster.
        string[] outputs = plan.Task == TaskKind.Binary ? ["PredictedLabel", "Probability", "Score"] : ["Score"];
        ml.Model.ConvertToOnnx(model, inputView, onnx, outputs);

        var signature = new ModelSignature(
            plan.Task,
            plan.Label.Name,
            plan.Classes,
            [.. plan.Features.Select(f => new SignatureInput(f.Name, f.Type, f.Categories))],
            ModelSignature.OutputsFor(plan.Task, plan.Classes?.Count ?? 0));
        return new TrainedModel(metrics, zip.ToArray(), onnx.ToArray(), signature);
    }

    private static TableDataView.LabelColumn Label(TrainingPlan plan, Table table)
    {
        var text = plan.LabelValues(table);
        return plan.Task switch
        {
            TaskKind.Binary => new(LabelColumn, BooleanDataViewType.Instance, text.Select(v => v == plan.Classes![1]).ToArray()),
            TaskKind.Multiclass => new(LabelColumn, new KeyDataViewType(typeof(uint), plan.Classes!.Count),
                text.Select(v => (uint)(IndexOf(plan.Classes!, v) + 1)).ToArray()),
            _ => new(LabelColumn, NumberDataViewType.Single, ((NumericColumn)table[plan.Label.Name]).Values),
        };
    }

    private static int IndexOf(IReadOnlyList<string> classes, string? value)
    {
        for (var i = 0; i < classes.Count; i++)
        {
            if (classes[i] == value)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Label value '{value}' is not one of the planned classes.");
    }

    private static IEstimator<ITransformer> Featurize(MLContext ml, TrainingPlan plan)
    {
        var numeric = plan.Features.Where(f => f.Type is ColumnType.Numeric or ColumnType.Boolean).Select(f => f.Name).ToArray();
        var categorical = plan.Features.Where(f => f.Type == ColumnType.Categorical).Select(f => f.Name).ToArray();
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        if (numeric.Length > 0)
        {
            // Every numeric input is imputed, not only those missing in training: serving may send a missing value anywhere.
            pipeline = pipeline.Append(ml.Transforms.ReplaceMissingValues(
                [.. numeric.Select(n => new InputOutputColumnPair(n, n))], MissingValueReplacingEstimator.ReplacementMode.Mean));
        }

        if (categorical.Length > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotEncoding([.. categorical.Select(n => new InputOutputColumnPair(n, n))]));
        }

        return pipeline.Append(ml.Transforms.Concatenate(FeaturesColumn, [.. numeric, .. categorical]));
    }

    private static IEstimator<ITransformer> CreateTrainer(MLContext ml, TrainingSpec spec, TrainingPlan plan)
    {
        var hp = spec.Hyperparameters;
        int? Int(string key) => hp.TryGetValue(key, out var v) ? (int)Math.Round(v) : null;
        double? Real(string key) => hp.TryGetValue(key, out var v) ? v : null;
        var (leaves, minLeaf, rate) = (Int("num_leaves"), Int("min_data_in_leaf"), Real("learning_rate"));
        var (iterations, trees) = (Int("num_iterations") ?? 100, Int("num_trees") ?? 100);
        var binary = ml.BinaryClassification.Trainers;
        var regression = ml.Regression.Trainers;
        return (spec.Trainer, plan.Task) switch
        {
            ("lightgbm", TaskKind.Binary) => binary.LightGbm(LabelColumn, FeaturesColumn, null, leaves, minLeaf, rate, iterations),
            ("lightgbm", TaskKind.Multiclass) => ml.MulticlassClassification.Trainers.LightGbm(LabelColumn, FeaturesColumn, null, leaves, minLeaf, rate, iterations),
            ("lightgbm", _) => regression.LightGbm(LabelColumn, FeaturesColumn, null, leaves, minLeaf, rate, iterations),
            ("fasttree", TaskKind.Binary) => binary.FastTree(LabelColumn, FeaturesColumn, null, leaves ?? 20, trees, minLeaf ?? 10, rate ?? 0.2),
            ("fasttree", TaskKind.Regression) => regression.FastTree(LabelColumn, FeaturesColumn, null, leaves ?? 20, trees, minLeaf ?? 10, rate ?? 0.2),
            ("fastforest", TaskKind.Binary) => new EstimatorChain<ITransformer>()
                .Append(binary.FastForest(LabelColumn, FeaturesColumn, null, leaves ?? 20, trees, minLeaf ?? 10))
                .Append(ml.BinaryClassification.Calibrators.Platt(LabelColumn)),
            ("fastforest", TaskKind.Regression) => regression.FastForest(LabelColumn, FeaturesColumn, null, leaves ?? 20, trees, minLeaf ?? 10),
            _ => throw CairnException.Invalid($"Trainer '{spec.Trainer}' cannot train a {plan.Task.ToString().ToLowerInvariant()} model."),
        };
    }

    private static Dictionary<string, double> Evaluate(MLContext ml, TaskKind task, IDataView predictions)
    {
        switch (task)
        {
            case TaskKind.Binary:
                var b = ml.BinaryClassification.Evaluate(predictions, LabelColumn);
                return new()
                {
                    ["auc"] = b.AreaUnderRocCurve,
                    ["pr_auc"] = b.AreaUnderPrecisionRecallCurve,
                    ["accuracy"] = b.Accuracy,
                    ["f1"] = b.F1Score,
                    ["precision"] = b.PositivePrecision,
                    ["recall"] = b.PositiveRecall,
                    ["log_loss"] = b.LogLoss,
                };
            case TaskKind.Multiclass:
                var m = ml.MulticlassClassification.Evaluate(predictions, LabelColumn);
                return new()
                {
                    ["accuracy"] = m.MicroAccuracy,
                    ["macro_accuracy"] = m.MacroAccuracy,
                    ["log_loss"] = m.LogLoss,
                };
            default:
                var r = ml.Regression.Evaluate(predictions, LabelColumn);
                return new()
                {
                    ["rmse"] = r.RootMeanSquaredError,
                    ["mae"] = r.MeanAbsoluteError,
                    ["r2"] = r.RSquared,
                };
        }
    }
}

using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Text;

namespace Cairn.Adapters.MLNet;

/// <summary>
/// Trains with ML.NET: the spec's featurization (imputation, one-hot or hashed categoricals, text n-grams, scaling,
/// the plan's selected columns) and trainer, then serializes the fitted pipeline as an ML.NET zip and as ONNX.
/// </summary>
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
        var names = plan.Features.Select(f => f.Name).ToList();

        var trainView = TableDataView.Create(request.Train, names, Label(plan, request.Train));
        var pipeline = Featurize(ml, spec, plan).Append(CreateTrainer(ml, spec, plan));
        var model = pipeline.Fit(trainView);
        cancellationToken.ThrowIfCancellationRequested();

        var signature = new ModelSignature(
            plan.Task,
            plan.Label.Name,
            plan.Classes,
            [.. plan.Features.Select(f => new SignatureInput(f.Name, f.Type, f.Categories))],
            ModelSignature.OutputsFor(plan.Task, plan.Classes?.Count ?? 0));
        var predictions = new MLNetModelRuntime(model, signature).Predict(request.Test);

        // Both serialized forms take only the features as input: callers never send the label.
        var inputView = TableDataView.Create(request.Test, names);
        using var zip = new MemoryStream();
        ml.Model.Save(model, inputView.Schema, zip);
        using var onnx = new MemoryStream();
        // Exporting only the outputs serving reads lets ONNX Runtime drop every other node: one row scores several times faster.
        string[] outputs = plan.Task == TaskKind.Binary ? ["PredictedLabel", "Probability", "Score"] : ["Score"];
        try
        {
            ml.Model.ConvertToOnnx(model, inputView, onnx, outputs);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or KeyNotFoundException)
        {
            throw CairnException.Invalid($"The {spec.Trainer} model with this featurization cannot be exported to ONNX: {e.Message}");
        }

        return new TrainedModel(zip.ToArray(), onnx.ToArray(), signature, predictions);
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

    private static IEstimator<ITransformer> Featurize(MLContext ml, TrainingSpec spec, TrainingPlan plan)
    {
        var featurize = spec.Featurize;
        string[] Names(Func<ColumnSchema, bool> predicate) => [.. plan.Features.Where(predicate).Select(f => f.Name)];
        var numeric = Names(f => f.Type is ColumnType.Numeric or ColumnType.Boolean);
        var hashed = Names(f => f.Type == ColumnType.Categorical && (featurize.Categorical == CategoricalEncoding.Hash || featurize.Hashed.Contains(f.Name)));
        var oneHot = Names(f => f.Type == ColumnType.Categorical && !hashed.Contains(f.Name));
        var text = Names(f => f.Type == ColumnType.Text);

        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        if (numeric.Length > 0)
        {
            // Every numeric input is imputed, not only those missing in training: serving may send a missing value anywhere.
            var mode = featurize.Missing switch
            {
                MissingReplacement.Min => MissingValueReplacingEstimator.ReplacementMode.Minimum,
                MissingReplacement.Max => MissingValueReplacingEstimator.ReplacementMode.Maximum,
                MissingReplacement.Zero => MissingValueReplacingEstimator.ReplacementMode.DefaultValue,
                _ => MissingValueReplacingEstimator.ReplacementMode.Mean,
            };
            pipeline = pipeline.Append(ml.Transforms.ReplaceMissingValues([.. numeric.Select(n => new InputOutputColumnPair(n, n))], mode));
        }

        if (oneHot.Length > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotEncoding([.. oneHot.Select(n => new InputOutputColumnPair(n, n))]));
        }

        if (hashed.Length > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotHashEncoding([.. hashed.Select(n => new InputOutputColumnPair(n, n))], numberOfBits: featurize.HashBits));
        }

        foreach (var column in text)
        {
            pipeline = pipeline.Append(ml.Transforms.Text.FeaturizeText(column, TextOptions(), column));
        }

        pipeline = pipeline.Append(ml.Transforms.Concatenate(FeaturesColumn, [.. numeric, .. oneHot, .. hashed, .. text]));
        var normalize = featurize.Normalize == Normalization.Auto
            ? TrainingSpec.Trainers[spec.Trainer].Linear ? Normalization.MinMax : Normalization.None
            : featurize.Normalize;
        pipeline = normalize switch
        {
            Normalization.MinMax => pipeline.Append(ml.Transforms.NormalizeMinMax(FeaturesColumn)),
            Normalization.MeanVariance => pipeline.Append(ml.Transforms.NormalizeMeanVariance(FeaturesColumn)),
            _ => pipeline,
        };

        return pipeline;
    }

    // Word uni- and bigrams and character trigrams, term-frequency weighted and L2-normed. Case and punctuation are kept,
    // and TF-IDF is not used: the ONNX export of lower-casing needs an installed locale and that of IDF weights scores
    // differently from ML.NET, and a model must score the same wherever it is served.
    private static TextFeaturizingEstimator.Options TextOptions() => new()
    {
        CaseMode = TextNormalizingEstimator.CaseMode.None,
        KeepDiacritics = true,
        KeepPunctuations = true,
        KeepNumbers = true,
        WordFeatureExtractor = new WordBagEstimator.Options { NgramLength = 2, UseAllLengths = true, Weighting = NgramExtractingEstimator.WeightingCriteria.Tf },
        CharFeatureExtractor = new WordBagEstimator.Options { NgramLength = 3, UseAllLengths = false, Weighting = NgramExtractingEstimator.WeightingCriteria.Tf },
        Norm = TextFeaturizingEstimator.NormFunction.L2,
    };

    private static IEstimator<ITransformer> CreateTrainer(MLContext ml, TrainingSpec spec, TrainingPlan plan)
    {
        var hp = spec.Hyperparameters;
        int? Int(string key) => hp.TryGetValue(key, out var v) ? (int)Math.Round(v) : null;
        float? Real(string key) => hp.TryGetValue(key, out var v) ? (float)v : null;
        var (leaves, minLeaf, rate) = (Int("num_leaves"), Int("min_data_in_leaf"), Real("learning_rate"));
        var (iterations, trees) = (Int("num_iterations") ?? 100, Int("num_trees") ?? 100);
        var (l1, l2, maxIterations) = (Real("l1_regularization"), Real("l2_regularization"), Int("max_iterations"));
        var binary = ml.BinaryClassification.Trainers;
        var multiclass = ml.MulticlassClassification.Trainers;
        var regression = ml.Regression.Trainers;

        // Linear trainers run on one thread: SDCA's result depends on how rows are shared among threads, and a run must be reproducible.
        return (spec.Trainer, plan.Task) switch
        {
            ("lightgbm", TaskKind.Binary) => binary.LightGbm(LabelColumn, FeaturesColumn, null, leaves, minLeaf, rate, iterations),
            ("lightgbm", TaskKind.Multiclass) => multiclass.LightGbm(LabelColumn, FeaturesColumn, null, leaves, minLeaf, rate, iterations),
            ("lightgbm", _) => regression.LightGbm(LabelColumn, FeaturesColumn, null, leaves, minLeaf, rate, iterations),
            ("fasttree", TaskKind.Binary) => binary.FastTree(LabelColumn, FeaturesColumn, null, leaves ?? 20, trees, minLeaf ?? 10, rate ?? 0.2),
            ("fasttree", TaskKind.Multiclass) => multiclass.OneVersusAll(
                binary.FastTree(LabelColumn, FeaturesColumn, null, leaves ?? 20, trees, minLeaf ?? 10, rate ?? 0.2), LabelColumn),
            ("fasttree", _) => regression.FastTree(LabelColumn, FeaturesColumn, null, leaves ?? 20, trees, minLeaf ?? 10, rate ?? 0.2),
            ("fastforest", TaskKind.Binary) => new EstimatorChain<ITransformer>()
                .Append(binary.FastForest(LabelColumn, FeaturesColumn, null, leaves ?? 20, trees, minLeaf ?? 10))
                .Append(ml.BinaryClassification.Calibrators.Platt(LabelColumn)),
            ("fastforest", _) => regression.FastForest(LabelColumn, FeaturesColumn, null, leaves ?? 20, trees, minLeaf ?? 10),
            ("sdca", TaskKind.Binary) => binary.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
            {
                LabelColumnName = LabelColumn, FeatureColumnName = FeaturesColumn, L1Regularization = l1, L2Regularization = l2,
                MaximumNumberOfIterations = maxIterations, NumberOfThreads = 1,
            }),
            ("sdca", TaskKind.Multiclass) => multiclass.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = LabelColumn, FeatureColumnName = FeaturesColumn, L1Regularization = l1, L2Regularization = l2,
                MaximumNumberOfIterations = maxIterations, NumberOfThreads = 1,
            }),
            ("sdca", _) => regression.Sdca(new SdcaRegressionTrainer.Options
            {
                LabelColumnName = LabelColumn, FeatureColumnName = FeaturesColumn, L1Regularization = l1, L2Regularization = l2,
                MaximumNumberOfIterations = maxIterations, NumberOfThreads = 1,
            }),
            ("lbfgs_logistic", TaskKind.Binary) => binary.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
            {
                LabelColumnName = LabelColumn, FeatureColumnName = FeaturesColumn, L1Regularization = l1 ?? 1, L2Regularization = l2 ?? 1,
                MaximumNumberOfIterations = maxIterations ?? int.MaxValue, NumberOfThreads = 1,
            }),
            ("lbfgs_logistic", _) => multiclass.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = LabelColumn, FeatureColumnName = FeaturesColumn, L1Regularization = l1 ?? 1, L2Regularization = l2 ?? 1,
                MaximumNumberOfIterations = maxIterations ?? int.MaxValue, NumberOfThreads = 1,
            }),
            ("lbfgs_poisson", _) => regression.LbfgsPoissonRegression(new LbfgsPoissonRegressionTrainer.Options
            {
                LabelColumnName = LabelColumn, FeatureColumnName = FeaturesColumn, L1Regularization = l1 ?? 1, L2Regularization = l2 ?? 1,
                MaximumNumberOfIterations = maxIterations ?? int.MaxValue, NumberOfThreads = 1,
            }),
            _ => throw CairnException.Invalid($"Trainer '{spec.Trainer}' cannot train a {plan.Task.ToString().ToLowerInvariant()} model."),
        };
    }
}

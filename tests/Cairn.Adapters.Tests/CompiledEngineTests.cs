using Cairn.Adapters.CompiledEngine;
using Cairn.Adapters.MLNet;
using Cairn.Adapters.OnnxRuntime;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Training;

namespace Cairn.Adapters.Tests;

/// <summary>The compiled engine against ONNX Runtime, value by value, on each kind of model Cairn trains and on imported graphs.</summary>
public sealed class CompiledEngineTests
{
    private static (TrainedModel Model, Table Test) Train(string file, string yaml)
    {
        var dataset = TestData.Describe(file);
        var table = TestData.Load(file, dataset.Schema);
        var spec = TrainingSpec.Parse(yaml);
        var plan = TrainingPlan.Create(spec, dataset, table);
        var test = table.Take(plan.TestRows);
        return (new MLNetTrainer().Train(new TrainingRequest(spec, plan, table.Take(plan.TrainRows), test), CancellationToken.None), test);
    }

    private static IModelRuntime Compile(byte[] onnx, ModelSignature signature)
    {
        var runtime = new CompiledModelCompiler().TryCompile(onnx, signature, out var reason);
        Assert.True(runtime is not null, $"not compiled: {reason}");
        Assert.Equal("compiled", runtime.Engine);
        return runtime;
    }

    // Every test row, then each input in turn missing, infinite, signed zero, huge or an unseen category; with the
    // trees scored each way (emitted code, QuickScorer's tables), whichever an ensemble would pick.
    private static void AssertAgrees(byte[] onnx, ModelSignature signature, Table sample)
    {
        try
        {
            foreach (var scoring in new[] { TreeEnsemble.TreeScoring.Emitted, TreeEnsemble.TreeScoring.QuickScorer })
            {
                TreeEnsemble.Scoring.Value = scoring;
                AssertAgreesOneWay(onnx, signature, sample);
            }
        }
        finally
        {
            TreeEnsemble.Scoring.Value = TreeEnsemble.TreeScoring.Fastest;
        }
    }

    private static void AssertAgreesOneWay(byte[] onnx, ModelSignature signature, Table sample)
    {
        using var compiled = Compile(onnx, signature);
        using var reference = new OnnxModelRuntimeFactory().Load(onnx, signature);
        var rows = EngineParity.WithEdgeCases(sample, signature);
        Assert.True(rows.RowCount > Math.Min(2000, sample.RowCount));
        IReadOnlyList<OutputTensor>? expected;
        try
        {
            expected = reference.Predict(rows);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            // ONNX Runtime refuses some rows (a linear model's NaN score); the compiled engine must refuse the same ones.
            expected = null;
        }

        if (expected is not null)
        {
            Assert.Null(EngineParity.Compare(expected, compiled.Predict(rows)));
        }

        // One row at a time answers as a batch does, and where ONNX Runtime refuses a row, so does the compiled engine.
        for (var row = expected is null ? 0 : Math.Max(0, rows.RowCount - 60); row < rows.RowCount; row++)
        {
            var one = rows.Take([row]);
            IReadOnlyList<OutputTensor> answer;
            try
            {
                answer = reference.Predict(one);
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                Assert.Throws<Cairn.Core.CairnException>(() => compiled.Predict(one));
                continue;
            }

            Assert.Null(EngineParity.Compare(answer, compiled.Predict(one)));
        }
    }

    [Theory]
    [InlineData("lightgbm", "binary", "adult.csv", "income")]
    [InlineData("fasttree", "binary", "adult.csv", "income")]
    [InlineData("fastforest", "binary", "adult.csv", "income")]
    [InlineData("lightgbm", "regression", "diabetes.csv", "target")]
    [InlineData("fasttree", "regression", "bike_sharing_hour.csv", "cnt")]
    [InlineData("fastforest", "regression", "diabetes.csv", "target")]
    [InlineData("lightgbm", "multiclass", "iris.csv", "target")]
    [InlineData("lbfgs_logistic", "binary", "breast_cancer.csv", "target")]
    public void TheCompiledEngine_AnswersAsOnnxRuntimeDoes_ValueByValue(string trainer, string task, string file, string label)
    {
        var ignore = file.StartsWith("bike", StringComparison.Ordinal) ? "ignore: [instant, casual, registered, dteday]\n" : "";
        var size = trainer switch { "lightgbm" => "hyperparameters: {num_iterations: 40}\n", "lbfgs_logistic" => "", _ => "hyperparameters: {num_trees: 40}\n" };
        var (model, test) = Train(file, $"dataset: d\nlabel: {label}\ntask: {task}\ntrainer: {trainer}\n{ignore}{size}seed: 3\n");

        AssertAgrees(model.OnnxModel, model.Signature, test);
    }

    [Fact]
    public void MinMaxScaling_OverOneHotFeatures_Compiles_AndAgrees()
    {
        var (model, test) = Train("adult.csv", "dataset: adult\nlabel: income\ntask: binary\ntrainer: lightgbm\nfeaturize: {normalize: min_max}\nhyperparameters: {num_iterations: 20}\n");

        AssertAgrees(model.OnnxModel, model.Signature, test);
    }

    [Fact]
    public void HashedCategoricals_StayOnOnnxRuntime_NamingTheHash()
    {
        var (model, _) = Train("adult.csv", "dataset: adult\nlabel: income\ntask: binary\ntrainer: lightgbm\nfeaturize: {categorical: hash}\nhyperparameters: {num_iterations: 5}\n");

        Assert.Null(new CompiledModelCompiler().TryCompile(model.OnnxModel, model.Signature, out var reason));
        Assert.Contains("MurmurHash3", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TextModels_Compile_AndAgree_TokenByToken()
    {
        var (model, test) = Train("sentiment_labelled_sentences.csv", "dataset: sentiment\nlabel: label\ntask: binary\ntrainer: sdca\nfeatures: [text]\nseed: 3\n");
        string[] awkward =
        [
            "a  b   c", " leading and trailing ", "naïve café, déjà vu!", "emoji 😀 and \uFFFD and tabs\tinside", "\u0002\u0003", "#", "!!!",
            "Great", "great great great great", "not good. Not good at all.", new string('x', 5000),
        ];
        var texts = ((StringColumn)test["text"]).Values;
        var rows = new Table([new StringColumn("text", [.. texts.Take(400), .. awkward])], 400 + awkward.Length);

        AssertAgreesOneWay(model.OnnxModel, model.Signature, rows);
    }

    [Fact]
    public void ImportedLinearGraphs_Compile_AndAgree()
    {
        var iris = TestData.Load("iris.csv", TestData.Describe("iris.csv").Schema);
        var onnx = File.ReadAllBytes(TestData.PathOf("onnx/iris_logistic.onnx"));
        var signature = ModelImport.Signature(new OnnxModelRuntimeFactory().Describe(onnx), new ImportOptions(Label: "target", Classes: ["setosa", "versicolor", "virginica"]));
        var renamed = new Table([.. iris.Columns.Take(4).Select((c, i) => new NumericColumn($"f{i}", ((NumericColumn)c).Values))], iris.RowCount);

        AssertAgrees(onnx, signature, renamed);
    }

    [Theory]
    [InlineData("iris_forest.onnx", "iris.csv", "target", 4)]
    [InlineData("diabetes_boosting.onnx", "diabetes.csv", "target", 10)]
    public void ImportedTreeEnsembles_FromScikitLearn_Compile_AndAgree(string file, string data, string label, int features)
    {
        // Written by tests/data/onnx/make_trees.py: a random forest classifier and a gradient boosting regressor.
        var table = TestData.Load(data, TestData.Describe(data).Schema);
        var onnx = File.ReadAllBytes(TestData.PathOf($"onnx/{file}"));
        var signature = ModelImport.Signature(new OnnxModelRuntimeFactory().Describe(onnx), new ImportOptions(Label: label));
        var renamed = new Table([.. table.Columns.Take(features).Select((c, i) => new NumericColumn($"f{i}", ((NumericColumn)c).Values))], table.RowCount);

        AssertAgrees(onnx, signature, renamed);
        AssertAgrees(onnx, signature, EngineParity.Synthetic(signature));
    }

    [Theory]
    [InlineData("breast_cancer_xgb", TaskKind.Binary)]
    [InlineData("diabetes_xgb", TaskKind.Regression)]
    [InlineData("iris_xgb", TaskKind.Multiclass)]
    public void XGBoostModels_Convert_AndScoreAsXGBoostDid(string name, TaskKind task)
    {
        // Written by tests/data/xgboost/make_models.py with XGBoost 1.7: the model, and its rows (with gaps) and predictions.
        var converted = new XGBoostConverter().TryConvert(File.ReadAllBytes(TestData.PathOf($"xgboost/{name}.json")));
        Assert.NotNull(converted);
        Assert.Equal(task, converted.Task);
        var signature = ModelImport.Signature(new OnnxModelRuntimeFactory().Describe(converted.Onnx), new ImportOptions(Task: converted.Task, Features: converted.Features));
        var reference = TestData.Load($"xgboost/{name}.predictions.csv", TestData.Describe($"xgboost/{name}.predictions.csv").Schema);
        var rows = new Table([.. converted.Features.Select(f => reference[f])], reference.RowCount);

        using var compiled = Compile(converted.Onnx, signature);
        var outputs = compiled.Predict(rows);
        var expected = task == TaskKind.Multiclass
            ? [.. Enumerable.Range(0, rows.RowCount).SelectMany(r => Enumerable.Range(0, 3).Select(k => ((NumericColumn)reference[$"p{k}"]).Values[r]))]
            : ((NumericColumn)reference["prediction"]).Values;
        var actual = outputs.Single(o => o.Name is ModelSignature.Probability or ModelSignature.Probabilities or ModelSignature.Prediction).Floats!;
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            // XGBoost adds the base margin first and ONNX last, so float rounding may differ in the last place.
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"value {i}: xgboost {expected[i]:R}, Cairn {actual[i]:R}");
        }

        AssertAgrees(converted.Onnx, signature, rows);
    }

    [Theory]
    [InlineData("breast_cancer.csv", "binary", 1)]
    [InlineData("diabetes.csv", "regression", 1)]
    [InlineData("iris.csv", "multiclass", 3)]
    public void LightGbmTextModels_Convert_AndScoreAsLightGbmDoes(string file, string objective, int outputs)
    {
        // Trained here by LightGBM itself (its C API), on rows where a tenth of the values are missing except in the
        // first column, so splits of both missing-value kinds (NaN tracked, and NaN read as 0) are exercised.
        var table = TestData.Load(file, TestData.Describe(file).Schema);
        var features = table.Columns.Where(c => c.Name != "target").Cast<NumericColumn>().ToList();
        var (rows, columns) = (table.RowCount, features.Count);
        var random = new Random(5);
        var matrix = new float[rows * columns];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                matrix[(r * columns) + c] = c > 0 && random.NextDouble() < 0.1 ? float.NaN : features[c].Values[r];
            }
        }

        var parameters = $"objective={objective} num_leaves=15 min_data_in_leaf=5 learning_rate=0.1 verbose=-1 seed=1 deterministic=true num_threads=1"
            + (outputs > 1 ? $" num_class={outputs}" : "");
        var (model, expected) = NativeLightGbm.TrainAndPredict(matrix, rows, columns, ((NumericColumn)table["target"]).Values, parameters, 30, outputs);

        var converted = new LightGbmConverter().TryConvert(model);
        Assert.NotNull(converted);
        var signature = ModelImport.Signature(new OnnxModelRuntimeFactory().Describe(converted.Onnx), new ImportOptions(Task: converted.Task, Features: converted.Features));
        var inputs = new Table([.. Enumerable.Range(0, columns).Select(c => new NumericColumn(converted.Features[c], [.. Enumerable.Range(0, rows).Select(r => matrix[(r * columns) + c])]))], rows);
        using var compiled = Compile(converted.Onnx, signature);
        var actual = compiled.Predict(inputs).Single(o => o.Name is ModelSignature.Probability or ModelSignature.Probabilities or ModelSignature.Prediction).Floats!;
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            // LightGBM sums in double and Cairn in float, as ONNX Runtime does.
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"value {i}: LightGBM {expected[i]:R}, Cairn {actual[i]:R}");
        }

        AssertAgrees(converted.Onnx, signature, inputs);
    }

    [Fact]
    public void FilesThatAreNotXGBoostModels_AreNotConverted_AndBrokenOnesAreRefusedByName()
    {
        var converter = new XGBoostConverter();
        Assert.Null(converter.TryConvert(File.ReadAllBytes(TestData.PathOf("onnx/iris_logistic.onnx"))));
        Assert.Null(converter.TryConvert("{\"rows\": []}"u8.ToArray()));
        var broken = Assert.Throws<Cairn.Core.CairnException>(() => converter.TryConvert("{\"learner\": {\"objective\": {\"name\": \"rank:pairwise\"}, \"learner_model_param\": {}, \"gradient_booster\": {\"name\": \"gbtree\"}}}"u8.ToArray()));
        Assert.Contains("XGBoost", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGraphWithAnUnknownNode_IsLeftToOnnxRuntime_NamingTheNode()
    {
        var onnx = File.ReadAllBytes(TestData.PathOf("onnx/iris_zipmap.onnx"));
        var signature = new ModelSignature(TaskKind.Multiclass, "target", ["0", "1", "2"], [.. Enumerable.Range(0, 4).Select(i => new SignatureInput($"f{i}", ColumnType.Numeric))], ModelSignature.OutputsFor(TaskKind.Multiclass, 3))
        {
            Graph = new GraphBinding("float_input", "output_probability", "label"),
        };

        Assert.Null(new CompiledModelCompiler().TryCompile(onnx, signature, out var reason));
        Assert.Contains("ZipMap", reason, StringComparison.Ordinal);
    }
}

using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Training;

namespace Cairn.Core.Tests;

public sealed class TrainingSpecTests
{
    [Fact]
    public void Parse_ReadsEveryField()
    {
        var spec = TrainingSpec.Parse("""
            dataset: adult@2
            label: income
            task: binary
            positive_class: ">50K"
            trainer: LightGBM
            hyperparameters: {num_leaves: 15, learning_rate: 0.1}
            features: [age, education]
            ignore: [fnlwgt]
            split: {test_fraction: 0.25}
            seed: 7
            name: first
            """);

        Assert.Equal(new DatasetRef("adult", 2), spec.Dataset);
        Assert.Equal("income", spec.Label);
        Assert.Equal(TaskKind.Binary, spec.Task);
        Assert.Equal(">50K", spec.PositiveClass);
        Assert.Equal("lightgbm", spec.Trainer);
        Assert.Equal(15, spec.Hyperparameters["num_leaves"]);
        Assert.Equal(["age", "education"], spec.Features);
        Assert.Equal(["fnlwgt"], spec.Ignore);
        Assert.Equal(0.25, spec.Split.TestFraction);
        Assert.Equal(7, spec.Seed);
        Assert.Equal("first", spec.RunName);
        Assert.Equal("0.1", spec.ToParams()["hp.learning_rate"]);
    }

    [Fact]
    public void Parse_AppliesDefaults()
    {
        var spec = TrainingSpec.Parse("dataset: d\nlabel: y\ntask: regression\n");

        Assert.Equal("lightgbm", spec.Trainer);
        Assert.Equal(0.2, spec.Split.TestFraction);
        Assert.Equal(42, spec.Seed);
        Assert.Null(spec.Features);
    }

    [Fact]
    public void Parse_ReportsEveryProblemAtOnce()
    {
        var e = Assert.Throws<CairnException>(() => TrainingSpec.Parse("""
            task: clustering
            trainer: xgboost
            split: {test_fraction: 1.5}
            """));

        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
        Assert.Contains("'dataset' is required", e.Message);
        Assert.Contains("'label' is required", e.Message);
        Assert.Contains("'task' is 'clustering'", e.Message);
        Assert.Contains("'trainer' is 'xgboost'", e.Message);
        Assert.Contains("'split.test_fraction' is 1.5", e.Message);
    }

    [Fact]
    public void Parse_RejectsHyperparametersTheTrainerDoesNotTake()
    {
        var e = Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: y\ntask: binary\nhyperparameters: {depth: 3, num_leaves: -1}\n"));

        Assert.Contains("hyperparameter 'depth' is not accepted by lightgbm", e.Message);
        Assert.Contains("hyperparameter 'num_leaves' is '-1'", e.Message);
    }

    [Fact]
    public void Parse_RejectsMulticlassForBinaryOnlyTrainers()
    {
        var forest = Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: y\ntask: multiclass\ntrainer: fastforest\n"));
        var poisson = Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: y\ntask: binary\ntrainer: poisson\n"));

        Assert.Contains("trainer 'fastforest' does not do multiclass; use one of lightgbm, fasttree, sdca, lbfgs_logistic", forest.Message);
        Assert.Contains("trainer 'lbfgs_poisson' does not do binary", poisson.Message);
    }

    [Fact]
    public void Parse_Featurization_ReadsEveryChoice_AndRecordsThemAsParams()
    {
        var spec = TrainingSpec.Parse("""
            dataset: d
            label: y
            task: binary
            trainer: sdca
            hyperparameters: {l1_regularization: 0, l2_regularization: 0.01}
            featurize:
              categorical: one-hot
              hash: [city]
              hash_bits: 12
              missing: median_or_what
              normalize: MeanVariance
              text: [comment]
              select_features: 0
            evaluate: {slices: [city], permutation_importance: false}
            """.Replace("median_or_what", "max", StringComparison.Ordinal).Replace("select_features: 0", "select_features: 5", StringComparison.Ordinal));

        Assert.Equal(new Featurization(CategoricalEncoding.OneHot, ["city"], 12, MissingReplacement.Max, Normalization.MeanVariance, ["comment"], 5) with
        {
            HashColumns = spec.Featurize.HashColumns, TextColumns = spec.Featurize.TextColumns,
        }, spec.Featurize);
        Assert.Equal(["city"], spec.Featurize.Hashed);
        Assert.False(spec.Evaluation.PermutationImportance);
        var parameters = spec.ToParams();
        Assert.Equal("mean_variance", parameters["featurize.normalize"]);
        Assert.Equal("12", parameters["featurize.hash_bits"]);
        Assert.Equal("city", parameters["evaluate.slices"]);
        Assert.Equal("0", parameters["hp.l1_regularization"]);
    }

    [Fact]
    public void ToYaml_ReadsBackToTheSameSpec()
    {
        var spec = TrainingSpec.Parse("""
            dataset: d@3
            label: y
            task: binary
            positive_class: "yes"
            trainer: lbfgs_logistic
            hyperparameters: {l2_regularization: 0.125, max_iterations: 50}
            ignore: [id]
            featurize: {categorical: hash, hash_bits: 9, missing: zero, normalize: min_max, text: [comment], select_features: 4}
            split: {method: hash, column: id, test_fraction: 0.3, validation_fraction: 0.1}
            evaluate: {slices: [city], permutation_importance: false}
            seed: 7
            name: again
            """);

        var again = TrainingSpec.Parse(spec.ToYaml());

        Assert.Equal(spec.ToParams(), again.ToParams());
        Assert.Equal((spec.RunName, spec.Evaluation.PermutationImportance), (again.RunName, again.Evaluation.PermutationImportance));
        Assert.Equal(spec.Featurize.Text, again.Featurize.Text);
    }

    [Fact]
    public void Parse_BadFeaturization_NamesEveryProblem()
    {
        var e = Assert.Throws<CairnException>(() => TrainingSpec.Parse(
            "dataset: d\nlabel: y\ntask: binary\nhyperparameters: {num_leaves: 0}\nfeaturize: {categorical: ordinal, normalize: log, hash_bits: 40, hash: [a], text: [a], select_features: 0}\n"));

        Assert.Contains("'featurize.categorical' is 'ordinal'; use one of one_hot, hash", e.Message);
        Assert.Contains("'featurize.normalize' is 'log'", e.Message);
        Assert.Contains("'featurize.hash_bits' is 40", e.Message);
        Assert.Contains("column 'a' is listed both in 'featurize.hash' and in 'featurize.text'", e.Message);
        Assert.Contains("'featurize.select_features' is 0", e.Message);
        Assert.Contains("hyperparameter 'num_leaves' is '0'; it must be a positive number", e.Message);
    }

    [Fact]
    public void Parse_BadYaml_SaysWhere()
    {
        var e = Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: [unclosed\n"));

        Assert.Contains("not valid YAML at line", e.Message);
    }

    [Fact]
    public void Parse_UnknownKey_IsRejected()
    {
        var e = Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: y\ntask: binary\nlabels: z\n"));

        Assert.Contains("labels", e.Message);
    }

    [Fact]
    public void Parse_MisspeltKey_NamesTheFileLineKeyAndTheKeysAllowed()
    {
        var e = Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: y\nsed: 4\n", "train.yaml"));

        Assert.StartsWith("The training spec 'train.yaml' has an unknown key 'sed' at line 3, column 1. Did you mean 'seed'?", e.Message);
        Assert.Contains("The keys allowed there are: dataset, label, task,", e.Message);
        Assert.DoesNotContain("Cairn.Core", e.Message);
        Assert.DoesNotContain("not valid YAML", e.Message);
    }

    [Fact]
    public void Parse_NestedKeyTypo_AndWrongTypes_SpeakYaml()
    {
        var nested = Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: y\nsplit: {test_fracton: 0.2}\n"));
        var type = Assert.Throws<CairnException>(() => TrainingSpec.Parse("dataset: d\nlabel: y\nseed: [1]\n"));

        Assert.Contains("unknown key 'test_fracton'", nested.Message);
        Assert.Contains("Did you mean 'test_fraction'?", nested.Message);
        Assert.DoesNotContain("System.", type.Message);
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(65)]
    public void Parse_DeepNesting_IsRefusedBeforeItIsRead(int depth)
    {
        var yaml = "dataset: d\nlabel: y\nhyperparameters: " + new string('[', depth) + new string(']', depth) + "\n";

        var e = Assert.Throws<CairnException>(() => TrainingSpec.Parse(yaml));

        Assert.Contains("nests deeper than the limit of 64 levels", e.Message);
    }
}

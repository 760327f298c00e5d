namespace Cairn.Cli.Tests;

/// <summary>One Adult model, trained and registered through the CLI and served by a real Kestrel server, shared by a class's tests.</summary>
public sealed class AdultModelFixture : IAsyncLifetime
{
    public const string Spec = "dataset: adult\nlabel: income\ntask: binary\nignore: [fnlwgt]\nhyperparameters: {num_iterations: 60}\nseed: 1\n";

    public const string Model = "adult-income";

    /// <summary>A rich person and a young part-timer, as JSON rows.</summary>
    public const string TwoRows = """
        {"rows": [
          {"age": 52, "workclass": "Self-emp-inc", "education": "Doctorate", "education_num": 16, "marital_status": "Married-civ-spouse",
           "occupation": "Prof-specialty", "relationship": "Husband", "race": "White", "sex": "Male", "capital_gain": 15024,
           "capital_loss": 0, "hours_per_week": 60, "native_country": "United-States"},
          {"age": 19, "workclass": "Private", "education": "11th", "education_num": 7, "marital_status": "Never-married",
           "occupation": "Handlers-cleaners", "relationship": "Own-child", "race": "White", "sex": "Female", "capital_gain": 0,
           "capital_loss": 0, "hours_per_week": 20, "native_country": null}
        ]}
        """;

    internal CairnHarness Harness { get; } = new();

    internal HttpClient Client { get; private set; } = null!;

    public string RunId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        RunId = await Harness.TrainAndRegisterAsync("adult.csv", "adult", Spec, Model);
        Client = await Harness.StartServerAsync();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Harness.DisposeAsync();
    }

    /// <summary>The same two rows as an Open Inference Protocol request.</summary>
    public static string TwoRowsAsOpenInference(string? id = null, string extraInputs = "") => $$"""
        {{{(id is null ? "" : $"\"id\": \"{id}\",")}}
         "inputs": [
          {"name": "age", "datatype": "FP32", "shape": [2, 1], "data": [52, 19]},
          {"name": "workclass", "datatype": "BYTES", "shape": [2], "data": ["Self-emp-inc", "Private"]},
          {"name": "education", "datatype": "BYTES", "shape": [2], "data": ["Doctorate", "11th"]},
          {"name": "education_num", "datatype": "INT32", "shape": [2], "data": [16, 7]},
          {"name": "marital_status", "datatype": "BYTES", "shape": [2], "data": ["Married-civ-spouse", "Never-married"]},
          {"name": "occupation", "datatype": "BYTES", "shape": [2], "data": ["Prof-specialty", "Handlers-cleaners"]},
          {"name": "relationship", "datatype": "BYTES", "shape": [2], "data": ["Husband", "Own-child"]},
          {"name": "race", "datatype": "BYTES", "shape": [2], "data": ["White", "White"]},
          {"name": "sex", "datatype": "BYTES", "shape": [2], "data": ["Male", "Female"]},
          {"name": "capital_gain", "datatype": "FP64", "shape": [2], "data": [15024, 0]},
          {"name": "capital_loss", "datatype": "FP32", "shape": [2], "data": [0, 0]},
          {"name": "hours_per_week", "datatype": "FP32", "shape": [2], "data": [[60], [20]]},
          {"name": "native_country", "datatype": "BYTES", "shape": [2], "data": ["United-States", null]}{{extraInputs}}
         ]}
        """;
}

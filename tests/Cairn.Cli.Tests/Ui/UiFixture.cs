using Cairn.Server;

namespace Cairn.Cli.Tests.Ui;

/// <summary>
/// Real data behind the UI: the Adult dataset, a trained and registered model with its evaluation, a second version, a
/// deployment; a real server (Kestrel on a free port, SQLite store) with the UI; and Chromium.
/// </summary>
public sealed class UiFixture : IAsyncLifetime
{
    internal CairnHarness Cairn { get; } = new();

    internal Chromium Chromium { get; private set; } = null!;

    public Uri Server { get; private set; } = null!;

    public string RunId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        RunId = await Cairn.TrainAndRegisterAsync("adult.csv", "adult", AdultModelFixture.Spec, AdultModelFixture.Model);
        var second = await Cairn.RunOkAsync("train", "--config", Cairn.WriteFile("second.yaml", AdultModelFixture.Spec.Replace("seed: 1", "seed: 2", StringComparison.Ordinal)), "--json");
        await Cairn.RunOkAsync("models", "register", second.Json.GetProperty("id").GetString()!, "--name", AdultModelFixture.Model);
        await Cairn.RunOkAsync("deploy", "adult", "--model", $"{AdultModelFixture.Model}@champion");
        using var client = await Cairn.StartServerAsync(options: new CairnServerOptions { GrpcPort = null });
        Server = client.BaseAddress!;
        Chromium = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        await Cairn.DisposeAsync();
    }
}

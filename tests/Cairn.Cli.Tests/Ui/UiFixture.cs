using Cairn.Server;
using Cairn.Testing;

namespace Cairn.Cli.Tests.Ui;

/// <summary>
/// Real data behind the UI: the Adult dataset, a trained and registered model with its evaluation, a second version, a
/// deployment; a real server (Kestrel on a free port, SQLite store) with the UI; and Chromium.
/// </summary>
public class UiFixture : IAsyncLifetime
{
    internal CairnHarness Cairn { get; } = new();

    internal Chromium Chromium { get; private set; } = null!;

    public Uri Server { get; private set; } = null!;

    public string RunId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await UseStoresAsync(Cairn);
        RunId = await Cairn.TrainAndRegisterAsync("adult.csv", "adult", AdultModelFixture.Spec, AdultModelFixture.Model);
        var second = await Cairn.RunOkAsync("train", "--config", Cairn.WriteFile("second.yaml", AdultModelFixture.Spec.Replace("seed: 1", "seed: 2", StringComparison.Ordinal)), "--json");
        await Cairn.RunOkAsync("models", "register", second.Json.GetProperty("id").GetString()!, "--name", AdultModelFixture.Model);
        await Cairn.RunOkAsync("deploy", "adult", "--model", $"{AdultModelFixture.Model}@champion");
        using var client = await Cairn.StartServerAsync(options: new CairnServerOptions { GrpcPort = null });
        Server = client.BaseAddress!;
        Chromium = await Chromium.LaunchAsync();
    }

    /// <summary>Points the home at the stores the pages are tested on; the embedded default needs nothing.</summary>
    private protected virtual Task UseStoresAsync(CairnHarness home) => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        await Cairn.DisposeAsync();
    }
}

/// <summary>The same data in team mode: a PostgreSQL metadata store and an S3-compatible artifact bucket, both real and on loopback.</summary>
public sealed class TeamUiFixture : UiFixture
{
    private readonly PostgreSqlServer _postgres = new();
    private readonly S3Server _s3 = new();

    private protected override async Task UseStoresAsync(CairnHarness home)
    {
        await _postgres.InitializeAsync();
        await _s3.InitializeAsync();
        home.Environment[CairnHome.StoreEnvironmentVariable] = await _postgres.CreateDatabaseAsync();
        home.Environment[CairnHome.ArtifactsEnvironmentVariable] = $"s3://{await _s3.CreateBucketAsync()}/cairn";
        home.Environment["CAIRN_S3_ENDPOINT"] = _s3.Endpoint.ToString();
        home.Environment["AWS_ACCESS_KEY_ID"] = S3Server.Credentials.GetCredentials().AccessKey;
        home.Environment["AWS_SECRET_ACCESS_KEY"] = S3Server.Credentials.GetCredentials().SecretKey;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _s3.DisposeAsync();
        await _postgres.DisposeAsync();
    }
}

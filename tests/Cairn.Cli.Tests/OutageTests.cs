using System.Net;
using Cairn.Testing;

namespace Cairn.Cli.Tests;

/// <summary>A metadata database that goes away mid-run is an outage to retry (503 with Retry-After, exit code 6), not a server failure.</summary>
public sealed class OutageTests(PostgreSqlServer postgres) : IClassFixture<PostgreSqlServer>, IAsyncLifetime
{
    private readonly CairnHarness _cairn = new();
    private TcpProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        var database = new Uri(await postgres.CreateDatabaseAsync());
        _proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, database.Port));
        _cairn.Environment[CairnHome.StoreEnvironmentVariable] = new UriBuilder(database) { Port = _proxy.Port }.Uri.ToString();
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _cairn.DisposeAsync();
    }

    [Fact]
    public async Task DatabaseStoppedMidTest_Is503WithRetryAfter_OnEveryApi_AndServingResumesWhenItIsBack()
    {
        using var server = await _cairn.StartServerAsync();
        Assert.Equal(201, (await server.PostJsonAsync("/api/experiments", """{"name": "before"}""")).Status);

        _proxy.Cut();
        using var native = await server.PostAsync("/api/experiments", Json("""{"name": "during"}"""));
        using var mlflow = await server.PostAsync("/api/2.0/mlflow/experiments/create", Json("""{"name": "during"}"""));
        using var search = await server.GetAsync("/api/2.0/mlflow/registered-models/search");
        var cli = await _cairn.RunAsync("experiments", "list");

        foreach (var response in new[] { native, mlflow, search })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            Assert.Contains("metadata database is unavailable", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(200, (await server.GetJsonAsync("/v2/health/live")).Status);
        Assert.Equal(6, cli.ExitCode);
        Assert.Contains("Cannot use the PostgreSQL store", cli.Error);

        _proxy.Restore();
        var (status, _) = await server.PostJsonAsync("/api/experiments", """{"name": "after"}""");
        Assert.Equal(201, status);
        var (_, names) = await server.GetJsonAsync("/api/experiments");
        Assert.Equal(["Default", "after", "before"], names.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}

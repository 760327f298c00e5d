using Cairn.Application;
using Cairn.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cairn.Cli.Tests;

/// <summary><c>cairn gc</c> on the local and the S3 artifact store: unreferenced blobs past the grace period go, everything referenced stays.</summary>
public sealed class GcTests(S3Server s3) : IClassFixture<S3Server>, IAsyncLifetime
{
    private readonly CairnHarness _cairn = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cairn.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gc_RemovesOnlyUnreferencedBlobsPastTheGracePeriod_AndDryRunRemovesNothing(bool onS3)
    {
        if (onS3)
        {
            _cairn.Environment[CairnHome.ArtifactsEnvironmentVariable] = $"s3://{await s3.CreateBucketAsync()}/cairn";
            _cairn.Environment["CAIRN_S3_ENDPOINT"] = s3.Endpoint.ToString();
            _cairn.Environment["AWS_ACCESS_KEY_ID"] = S3Server.Credentials.GetCredentials().AccessKey;
            _cairn.Environment["AWS_SECRET_ACCESS_KEY"] = S3Server.Credentials.GetCredentials().SecretKey;
        }

        await _cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "iris");
        using var server = await _cairn.StartServerAsync();
        var (_, run) = await server.PostJsonAsync("/api/runs", "{}");
        var runId = run.GetProperty("id").GetString()!;
        using (var first = await server.PutAsync($"/api/runs/{runId}/artifacts/notes.txt", new StringContent("first draft")))
        {
            Assert.True(first.IsSuccessStatusCode);
        }

        // Replacing the file leaves the first draft's blob referenced by nothing.
        using (var second = await server.PutAsync($"/api/runs/{runId}/artifacts/notes.txt", new StringContent("final text")))
        {
            Assert.True(second.IsSuccessStatusCode);
        }

        // Everything is younger than the default hour: nothing is collected.
        var young = (await _cairn.RunOkAsync("gc", "--json")).Json;
        Assert.Equal(0, young.GetProperty("collected").GetArrayLength());

        // Two hours on, the draft is old enough.
        var later = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(2));
        await using var services = new ServiceCollection().AddSingleton<TimeProvider>(later)
            .AddCairn(CairnHome.Resolve(_cairn.Home, null, null, name => _cairn.Environment.GetValueOrDefault(name), _cairn.WorkingDirectory), new Actor("test"))
            .BuildServiceProvider();
        var collector = services.GetRequiredService<BlobCollector>();
        var draft = Core.ContentHash.Of("first draft"u8.ToArray());

        var dry = await collector.CollectAsync(BlobCollector.DefaultGrace, dryRun: true, CancellationToken.None);
        var wet = await collector.CollectAsync(BlobCollector.DefaultGrace, dryRun: false, CancellationToken.None);
        var again = await collector.CollectAsync(BlobCollector.DefaultGrace, dryRun: false, CancellationToken.None);

        Assert.Equal([draft], dry.Collected.Select(b => b.ContentHash));
        Assert.Equal("first draft".Length, dry.Bytes);
        Assert.Equal([draft], wet.Collected.Select(b => b.ContentHash));
        Assert.Empty(again.Collected);
        Assert.Equal(wet.Kept, again.Kept);
        using var kept = await server.GetAsync($"/api/runs/{runId}/artifacts/notes.txt");
        Assert.Equal("final text", await kept.Content.ReadAsStringAsync());
        await _cairn.RunOkAsync("datasets", "get", "iris@1", "--output", "restored");
        Assert.Equal(File.ReadAllText(CairnHarness.DataFile("iris.csv")), File.ReadAllText(Path.Combine(_cairn.WorkingDirectory, "restored", "iris.csv")));
    }
}

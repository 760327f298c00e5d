using System.Diagnostics;

namespace Cairn.Cli.Tests;

/// <summary>A command killed outright (SIGKILL: out of memory, a reboot, kill -9) leaves no lie behind for the next one to find.</summary>
public sealed class KilledCommandTests : IAsyncLifetime
{
    private readonly CairnHarness _cairn = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cairn.DisposeAsync();

    private Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _cairn.WorkingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "cairn.dll"), "--home", _cairn.Home }.Concat(args))
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    [Fact]
    public async Task AKilledTrain_IsEndedAsInterrupted_ByTheNextCommand()
    {
        await _cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("adult.csv"), "--name", "adult");
        _cairn.WriteFile("slow.yaml", "dataset: adult\nlabel: income\ntask: binary\nhyperparameters: {num_iterations: 20000, num_leaves: 255, min_data_in_leaf: 1}\n");

        using (var train = Start("train", "--config", "slow.yaml"))
        {
            var seen = false;
            for (var i = 0; i < 600 && !seen && !train.HasExited; i++)
            {
                await Task.Delay(100);
                seen = (await _cairn.RunOkAsync("runs", "list", "--json")).Json.EnumerateArray().Any(r => r.GetProperty("status").GetString() == "running");
            }

            Assert.True(seen, "the training run was never seen running");
            train.Kill(entireProcessTree: true);
            await train.WaitForExitAsync();
        }

        var run = (await _cairn.RunOkAsync("runs", "list", "--json")).Json[0];

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Matches("^process .+:[0-9]+ ended before the run finished$", run.GetProperty("tags").GetProperty("cairn.interrupted").GetString());
        Assert.NotEqual(JsonValueKindNull, run.GetProperty("ended_at").ValueKind);
    }

    [Fact]
    public async Task AServerKilledMidUpload_LeavesNoFileBehind_AfterTheNextStart()
    {
        var run = (await _cairn.RunOkAsync("experiments", "list", "--json")).Json;
        Assert.True(run.GetArrayLength() > 0);
        using var server = Start("serve", "--port", "0", "--grpc-port", "0", "--no-monitoring");
        var address = await CairnHarness.ReadServerAddressAsync(server);
        using var client = new HttpClient { BaseAddress = address };
        var (_, created) = await client.PostJsonAsync("/api/runs", "{}");
        var runId = created.GetProperty("id").GetString()!;
        var owner = $"_{server.Id}_";
        string[] Leftovers() =>
        [
            .. Directory.EnumerateFiles(Path.GetTempPath(), "cairn-spool-*").Where(f => f.Contains(owner, StringComparison.Ordinal)),
            .. Directory.EnumerateFiles(Path.Combine(_cairn.Home, "artifacts", "tmp")).Where(f => f.Contains(owner, StringComparison.Ordinal)),
        ];

        // Two uploads that send some bytes, then stall: a dataset and an artifact, each half-received when the server dies.
        using var stall = new CancellationTokenSource();
        var dataset = new StalledContent(stall.Token) { Headers = { ContentType = new("text/csv") } };
        var artifact = new StalledContent(stall.Token) { Headers = { ContentType = new("application/octet-stream") } };
        var uploads = new[]
        {
            client.PostAsync("/api/datasets/big/versions?file=big.csv", dataset, stall.Token),
            client.PutAsync($"/api/runs/{runId}/artifacts/big.bin", artifact, stall.Token),
        };
        for (var i = 0; i < 300 && Leftovers().Length < 2; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(2, Leftovers().Length);
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
        await stall.CancelAsync();
        await Task.WhenAll(uploads.Select(u => u.ContinueWith(_ => { }, TaskScheduler.Default)));
        Assert.Equal(2, Leftovers().Length);

        await _cairn.RunOkAsync("datasets", "list");

        Assert.Empty(Leftovers());
    }

    // A body that sends 1 MiB, then waits until the test gives up on it: an upload cut off by the server's death.
    private sealed class StalledContent(CancellationToken stall) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var line = System.Text.Encoding.UTF8.GetBytes("a,b\n" + string.Concat(Enumerable.Repeat("1,2\n", 1 << 18)));
            await stream.WriteAsync(line, stall);
            await stream.FlushAsync(stall);
            await Task.Delay(Timeout.Infinite, stall);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;
}

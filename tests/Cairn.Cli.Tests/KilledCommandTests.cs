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

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;
}

namespace Cairn.Cli.Tests;

public sealed class QuickstartTests : IAsyncLifetime
{
    private readonly CairnHarness _cairn = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cairn.DisposeAsync();

    [Fact]
    public async Task Quickstart_RunsTheWholeLifecycle_AndCanRunTwice()
    {
        var first = await _cairn.RunOkAsync("quickstart");
        var second = await _cairn.RunOkAsync("quickstart");

        Assert.Contains("adult@1: 32,561 rows, 15 columns", first.Output);
        Assert.Contains("adult-income version 1", first.Output);
        Assert.Contains("held-out rows predicted correctly over HTTP", first.Output);
        Assert.Contains("adult@1 already holds this content", second.Output);
        Assert.Contains("adult-income version 2", second.Output);

        var datasets = (await _cairn.RunOkAsync("datasets", "list", "--json")).Json;
        Assert.Equal(1, datasets[0].GetProperty("version_count").GetInt32());
        var runs = (await _cairn.RunOkAsync("runs", "list", "--json")).Json;
        Assert.Equal(2, runs.GetArrayLength());
        var auc = runs[0].GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("key").GetString() == "auc").GetProperty("value").GetDouble();
        Assert.InRange(auc, 0.9, 1.0);
        var model = (await _cairn.RunOkAsync("models", "list", "--json")).Json[0];
        Assert.Equal(2, model.GetProperty("aliases").GetProperty("champion").GetInt32());
    }
}

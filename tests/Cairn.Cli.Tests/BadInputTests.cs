namespace Cairn.Cli.Tests;

/// <summary>Each mistake gets a clear message and a non-zero exit code, and leaves nothing half-written.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private const int Invalid = 2;
    private const int NotFound = 3;

    private readonly CairnHarness _cairn = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cairn.DisposeAsync();

    private async Task AssertNoDatasetsOrBlobsAsync()
    {
        Assert.Equal(0, (await _cairn.RunOkAsync("datasets", "list", "--json")).Json.GetArrayLength());
        var blobs = Path.Combine(_cairn.Home, "artifacts", "sha256");
        Assert.False(Directory.Exists(blobs) && Directory.EnumerateFiles(blobs, "*", SearchOption.AllDirectories).Any());
    }

    private async Task AssertNoRunsAsync() =>
        Assert.Equal(0, (await _cairn.RunOkAsync("runs", "list", "--json")).Json.GetArrayLength());

    [Fact]
    public async Task DatasetsAdd_MissingFile_IsNotFound()
    {
        var result = await _cairn.RunAsync("datasets", "add", "nowhere.csv", "--name", "d");

        Assert.Equal(NotFound, result.ExitCode);
        Assert.Contains("nowhere.csv' does not exist", result.Error);
        await AssertNoDatasetsOrBlobsAsync();
    }

    [Fact]
    public async Task DatasetsAdd_RaggedCsv_NamesTheRow_AndStoresNothing()
    {
        _cairn.WriteFile("ragged.csv", "a,b,c\n1,2,3\n4,5,6\n7,8\n");

        var result = await _cairn.RunAsync("datasets", "add", "ragged.csv", "--name", "d");

        Assert.Equal(Invalid, result.ExitCode);
        Assert.Contains("row 3 (line 4) has 2 fields, but the header has 3", result.Error);
        await AssertNoDatasetsOrBlobsAsync();
    }

    [Fact]
    public async Task DatasetsAdd_BadName_IsRejected()
    {
        var result = await _cairn.RunAsync("datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "../escape");

        Assert.Equal(Invalid, result.ExitCode);
        Assert.Contains("dataset name '../escape' is not valid", result.Error);
        await AssertNoDatasetsOrBlobsAsync();
    }

    [Fact]
    public async Task Train_UnknownLabelColumn_ListsTheColumns_AndRecordsNoRun()
    {
        await _cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "iris");

        var result = await _cairn.RunAsync("train", "--config", _cairn.WriteFile("t.yaml", "dataset: iris\nlabel: species\ntask: multiclass\n"));

        Assert.Equal(Invalid, result.ExitCode);
        Assert.Contains("label column 'species' is not in iris@1; its columns are: sepal_length_cm", result.Error);
        await AssertNoRunsAsync();
    }

    [Fact]
    public async Task Train_SingleClassLabel_IsRejected_AndRecordsNoRun()
    {
        _cairn.WriteFile("one.csv", "x,y\n" + string.Concat(Enumerable.Range(0, 50).Select(i => $"{i},yes\n")));
        await _cairn.RunOkAsync("datasets", "add", "one.csv", "--name", "one");

        var result = await _cairn.RunAsync("train", "--config", _cairn.WriteFile("t.yaml", "dataset: one\nlabel: y\ntask: binary\n"));

        Assert.Equal(Invalid, result.ExitCode);
        Assert.Contains("has a single class ('yes')", result.Error);
        await AssertNoRunsAsync();
    }

    [Fact]
    public async Task Train_UnknownDataset_MissingSpec_AndInvalidSpec_AreReported()
    {
        var unknown = await _cairn.RunAsync("train", "--config", _cairn.WriteFile("t.yaml", "dataset: ghost\nlabel: y\ntask: binary\n"));
        var missing = await _cairn.RunAsync("train", "--config", "absent.yaml");
        var invalid = await _cairn.RunAsync("train", "--config", _cairn.WriteFile("bad.yaml", "label: y\ntask: sorting\n"));

        Assert.Equal((NotFound, NotFound, Invalid), (unknown.ExitCode, missing.ExitCode, invalid.ExitCode));
        Assert.Contains("There is no dataset 'ghost'", unknown.Error);
        Assert.Contains("absent.yaml' does not exist", missing.Error);
        Assert.Contains("'dataset' is required", invalid.Error);
        Assert.Contains("'task' is 'sorting'", invalid.Error);
        await AssertNoRunsAsync();
    }

    [Fact]
    public async Task Models_UnknownRunModelOrVersion_AreReported()
    {
        var badId = await _cairn.RunAsync("models", "register", "not-a-run", "--name", "m");
        var unknownRun = await _cairn.RunAsync("models", "register", new string('a', 32), "--name", "m");
        var unknownModel = await _cairn.RunAsync("models", "show", "ghost");
        var reservedAlias = await _cairn.RunAsync("models", "register", new string('a', 32), "--name", "m", "--alias", "latest");

        Assert.Equal(Invalid, badId.ExitCode);
        Assert.Contains("is not a run id", badId.Error);
        Assert.Equal(NotFound, unknownRun.ExitCode);
        Assert.Contains("There is no run", unknownRun.Error);
        Assert.Equal(NotFound, unknownModel.ExitCode);
        Assert.Contains("no registered model 'ghost'", unknownModel.Error);
        Assert.Equal(Invalid, reservedAlias.ExitCode);
        Assert.Equal(0, (await _cairn.RunOkAsync("models", "list", "--json")).Json.GetArrayLength());
    }

    [Theory]
    [InlineData("127.0.0.1", false, false, null, false, false)]
    [InlineData("::1", false, false, null, false, false)]
    [InlineData("0.0.0.0", false, false, null, false, true)]
    [InlineData("127.0.0.1", true, false, null, false, true)]
    [InlineData("127.0.0.1", false, true, null, false, true)]
    [InlineData("127.0.0.1", false, false, "on", false, true)]
    [InlineData("0.0.0.0", true, false, null, true, false)]
    public void Serve_AuthenticatesBeyondLoopback_OrOnATeamStore_UnlessExplicitlyOpen(string host, bool teamStore, bool asked, string? environment, bool open,
        bool expected) =>
        Assert.Equal(expected, Commands.ServeCommand.AuthenticationRequired(host, teamStore, asked, environment, open));

    [Fact]
    public void Serve_NonLoopbackAddressWithoutAuthentication_NeedsTheExplicitFlag()
    {
        var error = Assert.Throws<Core.CairnException>(() => Server.CairnServer.Build(new Server.CairnServerOptions { Host = "0.0.0.0", Port = 0 }, _ => { }));

        Assert.Contains("without authentication", error.Message);
        Assert.Contains("--allow-unauthenticated-remote", error.Message);
    }

    [Fact]
    public async Task Serve_PortInUse_IsAConflictWithAHint()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var result = await _cairn.RunAsync("serve", "--port", port);

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("choose another port with --port", result.Error);
    }

    [Fact]
    public async Task UnknownCommandOrOption_IsAUsageError()
    {
        var result = await _cairn.RunAsync("datasets", "list", "--frobnicate");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--frobnicate", result.Error);
    }
}

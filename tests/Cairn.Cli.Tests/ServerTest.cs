namespace Cairn.Cli.Tests;

/// <summary>A test class with its own temporary home and a real server on a free port, started before each test.</summary>
public abstract class ServerTest : IAsyncLifetime
{
    internal CairnHarness Cairn { get; } = new();

    internal HttpClient Server { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Server = await Cairn.StartServerAsync();

    public async Task DisposeAsync()
    {
        Server.Dispose();
        await Cairn.DisposeAsync();
    }
}

using System.Text.Json;
using Cairn.Application;
using Cairn.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Cli.Tests;

internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public JsonElement Json => JsonDocument.Parse(Output).RootElement;
}

/// <summary>Runs the real CLI in-process against a temporary home, and real servers on free ports.</summary>
internal sealed class CairnHarness : IAsyncDisposable
{
    private readonly List<WebApplication> _servers = [];

    public CairnHarness()
    {
        Directory.CreateDirectory(WorkingDirectory);
    }

    public string WorkingDirectory { get; } = Path.Combine(Path.GetTempPath(), "cairn-tests", Guid.NewGuid().ToString("N"));

    public string Home => Path.Combine(WorkingDirectory, "home");

    public Dictionary<string, string?> Environment { get; } = new();

    /// <summary>The services of the server started last.</summary>
    public IServiceProvider? Services { get; private set; }

    /// <summary>The gRPC address of the server started last, when it has one.</summary>
    public Uri? GrpcAddress { get; private set; }

    public static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    /// <summary>A loopback port nothing listens on at the moment of asking.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Reads a `cairn serve` process's output until it says where it listens.</summary>
    public static async Task<Uri> ReadServerAddressAsync(System.Diagnostics.Process server)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (await server.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (System.Text.RegularExpressions.Regex.Match(line, @"at (http://[^ ]+/)") is { Success: true } match)
            {
                return new Uri(match.Groups[1].Value);
            }
        }

        throw new InvalidOperationException($"The server exited: {await server.StandardError.ReadToEndAsync()}");
    }

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new Dictionary<string, string?>(Environment) { [CairnHome.EnvironmentVariable] = Environment.GetValueOrDefault(CairnHome.EnvironmentVariable, Home) };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var code = await CliApp.RunAsync(args, CliConsole.CreatePlain(output, error), name => environment.GetValueOrDefault(name), WorkingDirectory, timeout.Token);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public async Task<CliResult> RunOkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"cairn {string.Join(' ', args)} exited {result.ExitCode}: {result.Error}{result.Output}");
        return result;
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(WorkingDirectory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Adds a dataset, trains on it and registers the model; returns the run id.</summary>
    public async Task<string> TrainAndRegisterAsync(string file, string dataset, string spec, string model, string alias = "champion")
    {
        await RunOkAsync("datasets", "add", DataFile(file), "--name", dataset);
        var run = await RunOkAsync("train", "--config", WriteFile($"{dataset}.yaml", spec), "--json");
        var runId = run.Json.GetProperty("id").GetString()!;
        await RunOkAsync("models", "register", runId, "--name", model, "--alias", alias);
        return runId;
    }

    public async Task<HttpClient> StartServerAsync(string alias = "champion", TimeProvider? time = null, CairnServerOptions? options = null, string? home = null)
    {
        var server = CairnServer.Build((options ?? new CairnServerOptions()) with { Port = 0, Alias = alias }, services =>
        {
            services.AddSingleton(time ?? TimeProvider.System);
            services.AddCairn(CairnHome.Resolve(home ?? Home, null, null, name => Environment.GetValueOrDefault(name), WorkingDirectory), new Actor("test-server"));
        });
        _servers.Add(server);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var address = await CairnServer.StartAsync(server, timeout.Token);
        GrpcAddress = CairnServer.GrpcAddress(server);
        Services = server.Services;
        Assert.Equal("127.0.0.1", address.Host);
        return new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.StopAsync(CancellationToken.None);
            await server.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(WorkingDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

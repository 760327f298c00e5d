using System.Diagnostics;
using System.Reflection;

namespace Cairn.Cli.Tests;

/// <summary>The CLI as a user installs it: packed as a .NET tool, installed into a folder, run outside the repository.</summary>
public sealed class ToolPackageTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cairn-tool-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task ThePackedTool_Installs_AndRunsItsCommands_AndServesTheUi()
    {
        var project = Path.Combine(RepositoryRoot(), "src", "Cairn.Cli", "Cairn.Cli.csproj");
        var packages = Path.Combine(_folder, "packages");
        var tools = Path.Combine(_folder, "tools");
        var home = Path.Combine(_folder, "home");
        // The suite has built the CLI in Release already; packing reuses that build.
        await RunAsync("dotnet", ["pack", project, "-c", "Release", "--no-build", "-o", packages, "-v", "quiet", "-nologo"]);
        var package = Assert.Single(Directory.GetFiles(packages, "Cairn.Cli.*.nupkg"));
        var version = typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        Assert.Equal($"Cairn.Cli.{version}.nupkg", Path.GetFileName(package));
        await RunAsync("dotnet", ["tool", "install", "Cairn.Cli", "--tool-path", tools, "--add-source", packages, "--ignore-failed-sources"]);
        var cairn = Path.Combine(tools, "cairn");

        Assert.StartsWith(version, (await RunAsync(cairn, ["--version"])).Trim(), StringComparison.Ordinal);
        await RunAsync(cairn, ["--home", home, "datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "iris"]);
        Assert.Contains("iris", await RunAsync(cairn, ["--home", home, "datasets", "list"]), StringComparison.Ordinal);

        // The web UI's scripts and styles are static assets of the program; the package must carry them.
        using var server = Start(cairn, ["--home", home, "serve", "--port", "0", "--grpc-port", "0", "--no-monitoring"]);
        try
        {
            using var http = new HttpClient { BaseAddress = await CairnHarness.ReadServerAddressAsync(server) };
            var page = await http.GetStringAsync("/experiments");
            var assets = System.Text.RegularExpressions.Regex.Matches(page, "(?:href|src)=\"([^\"]+\\.(?:css|js))\"").Select(m => m.Groups[1].Value).ToList();
            Assert.Contains(assets, a => a.Contains("blazor.web", StringComparison.Ordinal));
            foreach (var asset in assets)
            {
                using var response = await http.GetAsync(asset.TrimStart('/'));
                Assert.True(response.IsSuccessStatusCode, $"{asset}: {(int)response.StatusCode}");
            }
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Cairn.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("The tests do not run inside the repository.");
    }

    private Process Start(string program, IEnumerable<string> args)
    {
        Directory.CreateDirectory(_folder);
        var start = new ProcessStartInfo(program) { WorkingDirectory = _folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        return Process.Start(start)!;
    }

    private async Task<string> RunAsync(string program, IEnumerable<string> args)
    {
        using var process = Start(program, args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await error}{await output}");
        return await output;
    }
}

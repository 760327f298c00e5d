using System.Diagnostics;
using Npgsql;

namespace Cairn.Testing;

/// <summary>
/// A real PostgreSQL server for the tests: the one CAIRN_TEST_POSTGRES names, or a throwaway one that
/// tools/postgres.sh starts on 127.0.0.1 (test.sh installs the server). Each test gets its own database.
/// </summary>
public sealed class PostgreSqlServer : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "cairn-pg", Guid.NewGuid().ToString("N"));
    private bool _started;

    /// <summary>The server's URI, connecting to its maintenance database.</summary>
    public string Uri { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("CAIRN_TEST_POSTGRES") is { Length: > 0 } given)
        {
            Uri = given;
            return;
        }

        Uri = (await RunScriptAsync("start", _directory)).Trim();
        _started = true;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_started)
        {
            await RunScriptAsync("stop", _directory);
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // The server's files may linger a moment after it stops; the OS cleans /tmp eventually.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>Creates an empty database and returns its URI.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"cairn_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(Cairn.Adapters.PostgreSql.PostgreSqlConnections.ToConnectionString(Uri)))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        var builder = new UriBuilder(Uri) { Path = "/" + name };
        return builder.Uri.ToString();
    }

    private static async Task<string> RunScriptAsync(string verb, string directory)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "tools", "postgres.sh");
        using var process = Process.Start(new ProcessStartInfo("bash", [script, verb, directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"tools/postgres.sh {verb} failed ({process.ExitCode}): {await error}");
    }
}

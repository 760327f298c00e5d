using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Cairn.Application;
using Cairn.Core;

namespace Cairn.Cli;

/// <summary>
/// Runs heavy pipeline steps in a child <c>cairn pipelines step</c> process on the same home and stores, so a crash
/// or out-of-memory kill ends only that step. The store and artifact locations travel in environment variables, never
/// on the command line, where other users could read a password.
/// </summary>
internal sealed class ChildProcessStepHost(CairnHome home) : IStepHost
{
    /// <summary>The line prefix before the outputs a child step prints last.</summary>
    public const string OutputsMarker = "cairn-step-outputs ";

    public async Task<IReadOnlyDictionary<string, string>> RunAsync(string name, string kind, IReadOnlyDictionary<string, string> with, string directory,
        StringBuilder log, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            WorkingDirectory = directory,
        };
        // Under `dotnet cairn.dll` the process is the dotnet host and the CLI is an assembly it loads.
        var cli = typeof(ChildProcessStepHost).Assembly.Location;
        if (!string.Equals(Path.GetFileNameWithoutExtension(Environment.ProcessPath), "cairn", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(cli);
        }

        foreach (var argument in new[] { "--home", home.Path, "pipelines", "step", kind, "--name", name, "--directory", directory })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CAIRN_STEP_SETTINGS"] = JsonSerializer.Serialize(with.ToDictionary(w => w.Key, w => w.Value), CairnJson.Compact.DictionaryStringString);
        if (home.Store is { } store)
        {
            start.Environment[CairnHome.StoreEnvironmentVariable] = store;
        }

        if (home.S3Artifacts is { } s3)
        {
            start.Environment[CairnHome.ArtifactsEnvironmentVariable] = $"s3://{s3.Bucket}/{s3.Prefix}".TrimEnd('/');
        }

        string? outputs = null;
        var exitCode = await ChildProcess.RunAsync(start, $"Step '{name}'", timeout, line =>
        {
            if (line.StartsWith(OutputsMarker, StringComparison.Ordinal))
            {
                outputs = line[OutputsMarker.Length..];
            }
            else
            {
                log.AppendLine(line);
            }
        }, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0 || outputs is null)
        {
            // A kill by signal (out of memory) shows as 128 + the signal's number.
            var reason = exitCode > 128 ? $"was killed (exit code {exitCode}; signal {exitCode - 128})" : $"failed (exit code {exitCode})";
            // The child's own error line says what went wrong; stack frames after it do not.
            var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var last = lines.LastOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal))?["error:".Length..].Trim() ?? lines.LastOrDefault();
            throw CairnException.Invalid($"Step '{name}' {reason} in its own process{(last is null ? "" : $": {last}")}");
        }

        return JsonSerializer.Deserialize(outputs, CairnJson.Compact.DictionaryStringString) ?? [];
    }
}

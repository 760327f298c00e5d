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
            WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
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

        using var process = Process.Start(start) ?? throw CairnException.Invalid($"Could not start a child process for step '{name}'.");
        string? outputs = null;
        var gate = new object();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (gate)
            {
                if (e.Data.StartsWith(OutputsMarker, StringComparison.Ordinal))
                {
                    outputs = e.Data[OutputsMarker.Length..];
                }
                else
                {
                    log.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (gate)
                {
                    log.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TimeoutException($"Step '{name}' ran past its timeout of {timeout.TotalSeconds:0.##} s and was stopped.");
        }

        process.WaitForExit();
        if (process.ExitCode != 0 || outputs is null)
        {
            // A kill by signal (out of memory) shows as 128 + the signal's number.
            var reason = process.ExitCode > 128 ? $"was killed (exit code {process.ExitCode}; signal {process.ExitCode - 128})" : $"failed (exit code {process.ExitCode})";
            // The child's own error line says what went wrong; stack frames after it do not.
            var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var last = lines.LastOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal))?["error:".Length..].Trim() ?? lines.LastOrDefault();
            throw CairnException.Invalid($"Step '{name}' {reason} in its own process{(last is null ? "" : $": {last}")}");
        }

        return JsonSerializer.Deserialize(outputs, CairnJson.Compact.DictionaryStringString) ?? [];
    }
}

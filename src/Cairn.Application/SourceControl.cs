using System.Diagnostics;

namespace Cairn.Application;

/// <summary>
/// The code a run came from: the git commit, branch and uncommitted-changes flag of the folder its spec or pipeline
/// lives in, recorded as the tags MLflow's clients use (<c>mlflow.source.git.commit</c>...). Nothing is recorded outside
/// a git work tree or where git is not installed.
/// </summary>
public static class SourceControl
{
    /// <summary>The tag naming the commit.</summary>
    public const string CommitTag = "mlflow.source.git.commit";

    /// <summary>The tag naming the branch.</summary>
    public const string BranchTag = "mlflow.source.git.branch";

    /// <summary>The tag saying whether tracked files had uncommitted changes.</summary>
    public const string DirtyTag = "cairn.source.git.dirty";

    /// <summary>The tag naming the spec or pipeline file.</summary>
    public const string SourceTag = "mlflow.source.name";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The tags describing where <paramref name="specPath"/> came from.</summary>
    public static async Task<IReadOnlyList<KeyValuePair<string, string>>> TagsAsync(string specPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(specPath);
        var tags = new List<KeyValuePair<string, string>> { new(SourceTag, Path.GetFullPath(specPath)) };
        var folder = Path.GetDirectoryName(Path.GetFullPath(specPath)) ?? ".";
        if (await GitAsync(folder, ["rev-parse", "HEAD"], cancellationToken).ConfigureAwait(false) is not { Length: 40 } commit)
        {
            return tags;
        }

        tags.Add(new(CommitTag, commit));
        if (await GitAsync(folder, ["rev-parse", "--abbrev-ref", "HEAD"], cancellationToken).ConfigureAwait(false) is { Length: > 0 } branch && branch != "HEAD")
        {
            tags.Add(new(BranchTag, branch));
        }

        if (await GitAsync(folder, ["status", "--porcelain", "--untracked-files=no"], cancellationToken).ConfigureAwait(false) is { } status)
        {
            tags.Add(new(DirtyTag, status.Length > 0 ? "true" : "false"));
        }

        return tags;
    }

    // One git command's trimmed output, or null when git is missing, the folder is not in a work tree, or it took too long.
    private static async Task<string?> GitAsync(string folder, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(folder);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            _ = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return process.ExitCode == 0 ? (await output.ConfigureAwait(false)).Trim() : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}

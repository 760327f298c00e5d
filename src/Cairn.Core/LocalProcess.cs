using System.Diagnostics;

namespace Cairn.Core;

/// <summary>Processes named "host:pid", so that work a dead process left behind can be told apart from work still going.</summary>
public static class LocalProcess
{
    /// <summary>This process's name.</summary>
    public static string Current { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>The tag naming the process that does a run's work, so a run it left RUNNING when it died can be ended.</summary>
    public const string Tag = "cairn.process";

    /// <summary>The run, tagged as this process's work.</summary>
    public static Runs.Run Owns(Runs.Run run) =>
        run with { Tags = new Dictionary<string, string>(run.Tags) { [Tag] = Current } };

    /// <summary>
    /// Whether <paramref name="process"/> is a process on this machine that no longer runs (a reused pid is taken as
    /// alive: never fail live work; another machine's process is never judged).
    /// </summary>
    public static bool IsDead(string process)
    {
        var separator = process.LastIndexOf(':');
        if (separator < 0 || process[..separator] != Environment.MachineName || !int.TryParse(process[(separator + 1)..], out var pid))
        {
            return false;
        }

        try
        {
            using var found = Process.GetProcessById(pid);
            return found.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}

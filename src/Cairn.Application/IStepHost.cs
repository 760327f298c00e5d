using System.Text;

namespace Cairn.Application;

/// <summary>
/// Runs a heavy built-in step (train, sweep, evaluate) outside the calling process, so that a crash or an
/// out-of-memory kill ends the step, not the server or worker running the pipeline.
/// </summary>
public interface IStepHost
{
    /// <summary>
    /// Runs step <paramref name="name"/> of <paramref name="kind"/> with resolved settings; returns the outputs it
    /// recorded. Its log lines are appended to <paramref name="log"/>; a step past <paramref name="timeout"/> is stopped.
    /// </summary>
    Task<IReadOnlyDictionary<string, string>> RunAsync(string name, string kind, IReadOnlyDictionary<string, string> with, string directory,
        StringBuilder log, TimeSpan timeout, CancellationToken cancellationToken);
}

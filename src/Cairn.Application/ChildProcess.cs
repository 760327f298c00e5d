using System.Diagnostics;

namespace Cairn.Application;

/// <summary>Runs a child process to its end: every output line to a callback, the whole process tree stopped on timeout or cancellation.</summary>
public static class ChildProcess
{
    /// <summary>
    /// Starts <paramref name="start"/> (its output is redirected here), passes each line of standard output and error to
    /// <paramref name="line"/> (one at a time), and returns the exit code. Past <paramref name="timeout"/> the process tree is
    /// killed and a <see cref="TimeoutException"/> naming <paramref name="description"/> is thrown.
    /// </summary>
    public static async Task<int> RunAsync(ProcessStartInfo start, string description, TimeSpan timeout, Action<string> line, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(line);
        (start.RedirectStandardOutput, start.RedirectStandardError, start.UseShellExecute) = (true, true, false);
        using var process = Process.Start(start) ?? throw Core.CairnException.Invalid($"Could not start {description}.");
        var gate = new object();
        void Receive(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                lock (gate)
                {
                    line(e.Data);
                }
            }
        }

        process.OutputDataReceived += Receive;
        process.ErrorDataReceived += Receive;
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
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{description} ran past its timeout of {timeout.TotalSeconds:0.##} s and was stopped.");
        }

        // The parameterless wait also drains the last output lines.
        process.WaitForExit();
        return process.ExitCode;
    }
}

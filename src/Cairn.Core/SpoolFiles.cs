using System.Globalization;

namespace Cairn.Core;

/// <summary>
/// Temporary files (uploads being received, blobs being written) named after the process that writes them, so that
/// the next process to start can remove what a killed one left behind without touching a live process's files.
/// </summary>
public static class SpoolFiles
{
    /// <summary>The prefix of Cairn's files in the system's temporary folder.</summary>
    public const string TempPrefix = "cairn-spool-";

    private static readonly string Owner = $"{Environment.MachineName}_{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A new path in <paramref name="directory"/>: <c>PREFIXhost_pid_guidEXTENSION</c>.</summary>
    public static string NewPath(string directory, string prefix, string extension) =>
        Path.Combine(directory, $"{prefix}{Owner}_{Guid.NewGuid():N}{extension}");

    /// <summary>A new path in the system's temporary folder.</summary>
    public static string NewTempPath(string extension) => NewPath(Path.GetTempPath(), TempPrefix, extension);

    /// <summary>Removes what killed processes left in the system's temporary folder (see <see cref="RemoveOrphans"/>).</summary>
    public static int RemoveTempOrphans() => RemoveOrphans(Path.GetTempPath(), TempPrefix);

    /// <summary>
    /// Deletes the files with <paramref name="prefix"/> in <paramref name="directory"/> whose writer, a process on this
    /// machine, has ended; returns how many. Files of other machines and of live (or unknown) processes stay, and a pid
    /// reused by a live process counts as alive. Never throws for a file another process removes or holds meanwhile.
    /// </summary>
    public static int RemoveOrphans(string directory, string prefix)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(directory, prefix + "*"))
        {
            var name = Path.GetFileNameWithoutExtension(path)[prefix.Length..];
            var parts = name.Split('_');
            if (parts.Length < 3 || !int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }

            var process = $"{string.Join('_', parts[..^2])}:{parts[^2]}";
            try
            {
                // Only the writer named in the file writes to it, so once that process has ended the file is abandoned.
                if (LocalProcess.IsDead(process))
                {
                    File.Delete(path);
                    removed++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already, or not ours to remove.
            }
        }

        return removed;
    }
}

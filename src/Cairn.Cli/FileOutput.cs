namespace Cairn.Cli;

/// <summary>Writes files the CLI produces so that a reader never sees a half-written one.</summary>
internal static class FileOutput
{
    /// <summary>
    /// Copies <paramref name="content"/> into a hidden sibling of <paramref name="path"/>, then moves it into place
    /// unless <paramref name="verify"/> (run once everything is copied) throws.
    /// </summary>
    public static async Task WriteAtomicallyAsync(string path, Stream content, CancellationToken cancellationToken, Action? verify = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var partial = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.partial");
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }

            verify?.Invoke();
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }
}

namespace Cairn.Core.Runs;

/// <summary>One entry of a run's artifact tree: a file with its size, or a directory.</summary>
/// <param name="Path">The path relative to the run's artifact root.</param>
/// <param name="IsDirectory">Whether it is a directory holding further entries.</param>
/// <param name="SizeBytes">A file's size; null for a directory.</param>
public sealed record ArtifactEntry(string Path, bool IsDirectory, long? SizeBytes);

/// <summary>The rule for artifact paths and the tree view over a run's flat list of files.</summary>
public static class ArtifactPaths
{
    /// <summary>The longest artifact path accepted.</summary>
    public const int MaxLength = 1024;

    /// <summary>
    /// Validates a relative path such as <c>model/model.onnx</c>: '/'-separated names, none empty, '.' or '..', no
    /// backslashes or control characters. It never leaves the run's artifact root.
    /// </summary>
    public static string Validate(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw CairnException.Invalid("The artifact path is empty.");
        }

        if (path.Length > MaxLength)
        {
            throw CairnException.Invalid($"The artifact path has {path.Length} characters; the limit is {MaxLength}.");
        }

        if (path.Any(c => char.IsControl(c) || c == '\\') || path.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            throw CairnException.Invalid(
                $"The artifact path '{path}' is not valid: use '/'-separated names without empty, '.' or '..' parts, backslashes or control characters.");
        }

        return path;
    }

    /// <summary>
    /// The entries directly under <paramref name="directory"/> (the root when null or empty): files with their sizes
    /// and the directories that lead to deeper files, in path order. A path naming a file lists nothing.
    /// </summary>
    public static IReadOnlyList<ArtifactEntry> List(IEnumerable<RunArtifact> artifacts, string? directory)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        var prefix = string.IsNullOrEmpty(directory) ? "" : Validate(directory.TrimEnd('/')) + "/";
        var entries = new SortedDictionary<string, ArtifactEntry>(StringComparer.Ordinal);
        foreach (var artifact in artifacts.Where(a => a.Path.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var slash = artifact.Path.IndexOf('/', prefix.Length);
            var entry = slash < 0
                ? new ArtifactEntry(artifact.Path, false, artifact.SizeBytes)
                : new ArtifactEntry(artifact.Path[..slash], true, null);
            entries.TryAdd(entry.Path, entry);
        }

        return [.. entries.Values];
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Cairn.Core;

namespace Cairn.Cli;

/// <summary>A server the user logged in to: where it is, the token that proves who they are there, and who that is.</summary>
/// <param name="Name">What the user calls it (the server's host and port unless they chose a name).</param>
/// <param name="Server">The server's base address.</param>
/// <param name="Token">The API token, or null for a server that asks for none (one on the user's own loopback).</param>
/// <param name="User">The account the token stands for, as the server said at login.</param>
internal sealed record Profile(string Name, string Server, string? Token, string? User);

/// <summary>The profiles file: every profile, and the one commands use unless told otherwise.</summary>
internal sealed record ProfileSet(string? Current, IReadOnlyList<Profile> Profiles)
{
    public static readonly ProfileSet Empty = new(null, []);

    public Profile? Find(string name) => Profiles.FirstOrDefault(p => p.Name == name);
}

/// <summary>
/// Keeps profiles in <c>$XDG_CONFIG_HOME/cairn/profiles.json</c> (else <c>~/.config/cairn/</c>): readable and
/// writable by the user alone (0600, its folder 0700), since it holds tokens. Written whole to a temporary file and
/// renamed, so a crash never leaves half a file.
/// </summary>
internal sealed class ProfileStore(string? folder)
{
    public static ProfileStore For(Func<string, string?> environment)
    {
        var config = environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : environment("HOME") is { Length: > 0 } home ? Path.Combine(home, ".config")
            : null;
        return new ProfileStore(config is null ? null : Path.Combine(config, "cairn"));
    }

    public string? FilePath => folder is null ? null : Path.Combine(folder, "profiles.json");

    public ProfileSet Load()
    {
        if (FilePath is not { } path || !File.Exists(path))
        {
            return ProfileSet.Empty;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), ProfileJson.Default.ProfileSet) ?? ProfileSet.Empty;
        }
        catch (JsonException e)
        {
            throw new CairnException(ErrorCode.Corrupt, $"{path} is not a profiles file Cairn can read ({e.Message}); remove it and log in again.");
        }
    }

    public void Save(ProfileSet profiles)
    {
        if (folder is null || FilePath is not { } path)
        {
            throw CairnException.Invalid("There is no folder to keep profiles in: set HOME or XDG_CONFIG_HOME.");
        }

        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var temporary = path + ".tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created with the user's bits only, so the token is never readable by others, not even for a moment.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, profiles, ProfileJson.Default.ProfileSet);
        }

        File.Move(temporary, path, overwrite: true);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ProfileSet))]
[JsonSerializable(typeof(Profile))]
internal sealed partial class ProfileJson : JsonSerializerContext;

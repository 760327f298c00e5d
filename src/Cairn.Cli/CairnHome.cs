using Cairn.Adapters.PostgreSql;
using Cairn.Core;

namespace Cairn.Cli;

/// <summary>
/// Where Cairn keeps its state: the home folder (<c>--home</c>, else <c>CAIRN_HOME</c>, else <c>.cairn/</c> in the
/// working directory) for artifacts and the embedded SQLite database, and optionally a shared metadata store
/// (<c>--store</c>, else <c>CAIRN_STORE</c>): a <c>postgresql://</c> URI for team mode.
/// </summary>
internal sealed record CairnHome(string Path, string? Store = null)
{
    public const string EnvironmentVariable = "CAIRN_HOME";

    public const string StoreEnvironmentVariable = "CAIRN_STORE";

    public string MetadataDatabase => System.IO.Path.Combine(Path, "metadata.db");

    public string Artifacts => System.IO.Path.Combine(Path, "artifacts");

    /// <summary>Whether metadata lives in PostgreSQL rather than the home's SQLite file.</summary>
    public bool UsesPostgreSql => Store is not null;

    public static CairnHome Resolve(string? option, string? storeOption, Func<string, string?> environment, string workingDirectory)
    {
        var chosen = !string.IsNullOrWhiteSpace(option) ? option
            : environment(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : System.IO.Path.Combine(workingDirectory, ".cairn");
        var store = !string.IsNullOrWhiteSpace(storeOption) ? storeOption : environment(StoreEnvironmentVariable) is { Length: > 0 } s ? s : null;
        if (store is not null && !PostgreSqlConnections.IsPostgreSql(store))
        {
            throw CairnException.Invalid(
                "The metadata store must be a postgresql://user:password@host:port/database URI; leave --store out to use the home's embedded SQLite database.");
        }

        return new CairnHome(System.IO.Path.GetFullPath(chosen, workingDirectory), store);
    }
}

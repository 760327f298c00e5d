using Amazon.Runtime;
using Cairn.Adapters.PostgreSql;
using Cairn.Adapters.S3;
using Cairn.Core;

namespace Cairn.Cli;

/// <summary>
/// Where Cairn keeps its state: the home folder (<c>--home</c>, else <c>CAIRN_HOME</c>, else <c>.cairn/</c> in the
/// working directory) for the embedded SQLite database, local artifacts and temporary files; optionally a shared
/// metadata store (<c>--store</c>, else <c>CAIRN_STORE</c>: a <c>postgresql://</c> URI) and a shared artifact store
/// (<c>--artifacts</c>, else <c>CAIRN_ARTIFACTS</c>: an <c>s3://bucket/prefix</c> location) for team mode.
/// </summary>
internal sealed record CairnHome(string Path, string? Store = null, S3ArtifactLocation? S3Artifacts = null, AWSCredentials? S3Credentials = null)
{
    public const string EnvironmentVariable = "CAIRN_HOME";

    public const string StoreEnvironmentVariable = "CAIRN_STORE";

    public const string ArtifactsEnvironmentVariable = "CAIRN_ARTIFACTS";

    public string MetadataDatabase => System.IO.Path.Combine(Path, "metadata.db");

    public string Artifacts => System.IO.Path.Combine(Path, "artifacts");

    /// <summary>This machine's cache of file hashes, so unchanged files are not hashed again.</summary>
    public string FileHashCache => System.IO.Path.Combine(Path, "file-hashes.db");

    /// <summary>Where uploads to a remote artifact store are spooled while they are hashed.</summary>
    public string Spool => System.IO.Path.Combine(Path, "tmp");

    /// <summary>The Quartz.NET job store holding pipeline schedules and the runs they fire.</summary>
    public string SchedulerDatabase => System.IO.Path.Combine(Path, "scheduler.db");

    public static CairnHome Resolve(string? option, string? storeOption, string? artifactsOption, Func<string, string?> environment, string workingDirectory)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var chosen = !string.IsNullOrWhiteSpace(option) ? option
            : environment(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : System.IO.Path.Combine(workingDirectory, ".cairn");
        var store = !string.IsNullOrWhiteSpace(storeOption) ? storeOption : environment(StoreEnvironmentVariable) is { Length: > 0 } s ? s : null;
        if (store is not null && !PostgreSqlConnections.IsPostgreSql(store))
        {
            throw CairnException.Invalid(
                "The metadata store must be a postgresql://user:password@host:port/database URI; leave --store out to use the home's embedded SQLite database.");
        }

        var artifacts = !string.IsNullOrWhiteSpace(artifactsOption) ? artifactsOption
            : environment(ArtifactsEnvironmentVariable) is { Length: > 0 } a ? a : null;
        S3ArtifactLocation? s3 = null;
        if (artifacts is not null)
        {
            if (!S3ArtifactLocation.IsS3(artifacts))
            {
                throw CairnException.Invalid("The artifact store must be an s3://bucket/prefix location; leave --artifacts out to keep artifacts in the home folder.");
            }

            s3 = S3ArtifactLocation.Parse(artifacts, environment);
        }

        return new CairnHome(System.IO.Path.GetFullPath(chosen, workingDirectory), store, s3, s3 is null ? null : Credentials(environment));
    }

    // Credentials given in the environment Cairn was handed; otherwise the AWS SDK's own chain (profiles, instance roles).
    private static AWSCredentials? Credentials(Func<string, string?> environment) =>
        (environment("AWS_ACCESS_KEY_ID"), environment("AWS_SECRET_ACCESS_KEY"), environment("AWS_SESSION_TOKEN")) switch
        {
            ({ Length: > 0 } key, { Length: > 0 } secret, { Length: > 0 } token) => new SessionAWSCredentials(key, secret, token),
            ({ Length: > 0 } key, { Length: > 0 } secret, _) => new BasicAWSCredentials(key, secret),
            _ => null,
        };
}

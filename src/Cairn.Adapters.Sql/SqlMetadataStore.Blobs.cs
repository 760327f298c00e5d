using Cairn.Core;
using Cairn.Core.Ports;

namespace Cairn.Adapters.Sql;

public abstract partial class SqlMetadataStore : IBlobReferences
{
    // Every column that holds a blob's hash. A table or column added later that points at blobs must be listed here,
    // or `cairn gc` would collect what it points at.
    private const string ReferencedBlobs = """
        SELECT content_hash, format FROM dataset_versions
        UNION SELECT profile_hash, NULL FROM dataset_versions WHERE profile_hash IS NOT NULL
        UNION SELECT content_hash, NULL FROM run_artifacts
        UNION SELECT onnx_hash, NULL FROM model_versions WHERE onnx_hash IS NOT NULL
        UNION SELECT mlnet_hash, NULL FROM model_versions WHERE mlnet_hash IS NOT NULL
        UNION SELECT contract_hash, NULL FROM dataset_validations
        UNION SELECT baseline_hash, NULL FROM monitors
        UNION SELECT content_hash, NULL FROM job_files
        UNION SELECT content_hash, NULL FROM schedule_files
        """;

    /// <inheritdoc />
    public Task<(IReadOnlySet<ContentHash> Referenced, IReadOnlyList<ContentHash> Manifests)> ListReferencedBlobsAsync(CancellationToken cancellationToken) =>
        ReadAsync<(IReadOnlySet<ContentHash>, IReadOnlyList<ContentHash>)>(async connection =>
        {
            var rows = await QueryAsync(connection, null, ReferencedBlobs, [], r => (Hash: r.GetString(0), Folder: !r.IsDBNull(1) && r.GetString(1) == "folder"),
                cancellationToken).ConfigureAwait(false);
            var referenced = new HashSet<ContentHash>();
            var manifests = new List<ContentHash>();
            foreach (var (text, folder) in rows)
            {
                if (!ContentHash.TryParse(text, out var hash))
                {
                    throw new CairnException(ErrorCode.Corrupt, $"The metadata holds '{text}' where a blob's hash belongs.");
                }

                referenced.Add(hash);
                if (folder)
                {
                    manifests.Add(hash);
                }
            }

            return (referenced, manifests);
        }, cancellationToken);
}

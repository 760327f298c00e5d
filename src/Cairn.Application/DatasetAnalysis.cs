using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Identity;
using Cairn.Core.Ports;
using Cairn.Core.Statistics;

namespace Cairn.Application;

/// <summary>What Cairn knows about a version's contents: profiles, drift between versions, contracts and their validations, splits.</summary>
public sealed class DatasetAnalysis(DatasetService datasets, IDatasetStore store, IArtifactStore artifacts, Actor actor)
{
    /// <summary>
    /// A version's profile: the stored one, or computed now (columns split among the cores, each reading the
    /// verified file) and stored with the version.
    /// </summary>
    public async Task<(DatasetVersion Version, DatasetProfile Profile)> ProfileAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        var version = await datasets.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        if (version.ProfileHash is { } stored)
        {
            await using var json = await artifacts.OpenReadAsync(stored, cancellationToken).ConfigureAwait(false);
            return (version, await JsonSerializer.DeserializeAsync(json, CairnJson.Compact.DatasetProfile, cancellationToken).ConfigureAwait(false)
                ?? throw new CairnException(ErrorCode.Corrupt, $"The stored profile of {version.Reference} is empty."));
        }

        var profile = await Task.Run(() => Profiler.Profile(() => datasets.OpenRecords(version), version.Schema, Math.Clamp(Environment.ProcessorCount, 1, 4), cancellationToken), cancellationToken).ConfigureAwait(false);
        var saved = await artifacts.PutAsync(new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(profile, CairnJson.Compact.DatasetProfile)), cancellationToken)
            .ConfigureAwait(false);
        await store.SetDatasetProfileAsync(version.Name, version.Version, saved.ContentHash, actor.Name, cancellationToken).ConfigureAwait(false);
        return (version with { ProfileHash = saved.ContentHash }, profile);
    }

    /// <summary>Compares two versions: schema changes, row counts and per-column drift from their profiles.</summary>
    public async Task<DatasetDiff> DiffAsync(DatasetRef first, DatasetRef second, CancellationToken cancellationToken)
    {
        var (a, aProfile) = await ProfileAsync(first, cancellationToken).ConfigureAwait(false);
        var (b, bProfile) = await ProfileAsync(second, cancellationToken).ConfigureAwait(false);
        return new DatasetDiff(a.Reference, b.Reference, a.RowCount, b.RowCount, SchemaChange.Compare(a.Schema, b.Schema), DriftDetector.Compare(aProfile, bProfile));
    }

    /// <summary>A contract the version passes as it is, to be edited.</summary>
    public async Task<DataContract> InferContractAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        var (version, profile) = await ProfileAsync(reference, cancellationToken).ConfigureAwait(false);
        return DataContract.Infer(version, profile);
    }

    /// <summary>Validates a version against a contract (YAML text), reporting every violation, and stores the result with the version.</summary>
    public async Task<ValidationReport> ValidateAsync(DatasetRef reference, string contractYaml, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contractYaml);
        var contract = DataContract.Parse(contractYaml);
        ArgumentNullException.ThrowIfNull(reference);
        actor.Demand(ResourceRef.Dataset(reference.Name), Role.Editor, "record validations");
        var version = await datasets.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        var contractHash = (await artifacts.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(contractYaml)), cancellationToken).ConfigureAwait(false)).ContentHash;
        (bool Passed, long Rows, IReadOnlyList<Violation> Violations) result;
        result = await Task.Run(() =>
        {
            using var reader = datasets.OpenRecords(version);
            return contract.Validate(reader, cancellationToken);
        }, cancellationToken).ConfigureAwait(false);

        var report = new ValidationReport(version.Name, version.Version, contractHash, result.Passed, result.Rows, result.Violations, DateTimeOffset.UnixEpoch);
        return await store.AddDatasetValidationAsync(report, actor.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A version's stored validations, newest first.</summary>
    public async Task<IReadOnlyList<ValidationReport>> ListValidationsAsync(DatasetRef reference, CancellationToken cancellationToken)
    {
        var version = await datasets.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        return await store.ListDatasetValidationsAsync(version.Name, version.Version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Splits a version's rows deterministically; with <paramref name="folder"/>, writes each part's rows (in file
    /// order, header first) to train.csv, validation.csv and test.csv there, none of which may exist yet.
    /// </summary>
    public async Task<(DatasetVersion Version, IReadOnlyDictionary<SplitPart, long> Counts, IReadOnlyList<string> Files)> SplitAsync(
        DatasetRef reference, DataSplit split, int seed, string? folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(split);
        var version = await datasets.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        var parts = split.Assign(await datasets.LoadAsync(version, cancellationToken).ConfigureAwait(false), version.Schema, seed);
        var counts = Enum.GetValues<SplitPart>().ToDictionary(p => p, p => (long)parts.Count(x => x == p));
        if (folder is null)
        {
            return (version, counts, []);
        }

        Directory.CreateDirectory(folder);
        var targets = new[] { SplitPart.Train, SplitPart.Validation, SplitPart.Test }.Where(p => counts[p] > 0)
            .ToDictionary(p => p, p => Path.Combine(folder, $"{p.ToString().ToLowerInvariant()}.csv"));
        if (targets.Values.FirstOrDefault(File.Exists) is { } taken)
        {
            throw new CairnException(ErrorCode.Conflict, $"'{taken}' already exists; choose another folder or remove it.");
        }

        var writers = targets.ToDictionary(t => t.Key, t => new StreamWriter(t.Value + ".partial", false, new UTF8Encoding(false), 1 << 16));
        try
        {
            await Task.Run(() =>
            {
                using var reader = datasets.OpenRecords(version);
                foreach (var writer in writers.Values)
                {
                    writer.Write(CsvWriter.Record(reader.Header));
                }

                var row = 0;
                while (reader.TryRead())
                {
                    if (writers.TryGetValue(parts[row++], out var writer))
                    {
                        writer.Write(CsvWriter.Record(Enumerable.Range(0, reader.Header.Count).Select(reader.GetString)));
                    }
                }
            }, cancellationToken).ConfigureAwait(false);

            foreach (var (part, writer) in writers)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
                File.Move(targets[part] + ".partial", targets[part]);
            }

            return (version, counts, [.. targets.Values]);
        }
        finally
        {
            foreach (var (part, writer) in writers)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
                File.Delete(targets[part] + ".partial");
            }
        }
    }
}

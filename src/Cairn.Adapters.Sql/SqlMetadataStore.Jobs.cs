using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Jobs;
using Cairn.Core.Ports;

namespace Cairn.Adapters.Sql;

public abstract partial class SqlMetadataStore : IJobStore
{
    /// <inheritdoc />
    public Task AddJobAsync(Job job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return WriteAsync(async (connection, transaction) =>
        {
            await ExecuteAsync(connection, transaction, """
                INSERT INTO jobs (id, submitted_by, submitted_at, status, revision, job_json)
                VALUES (@id, @by, @at, @status, @revision, @json)
                """, JobParameters(job), cancellationToken).ConfigureAwait(false);
            foreach (var file in job.Files)
            {
                // The blobs a queued job will read are referenced from here, so `cairn gc` keeps them.
                await ExecuteAsync(connection, transaction, "INSERT INTO job_files (job_id, path, content_hash, size_bytes) VALUES (@id, @path, @hash, @size)",
                    [("@id", job.Id), ("@path", file.Path), ("@hash", file.ContentHash.ToString()), ("@size", file.SizeBytes)], cancellationToken).ConfigureAwait(false);
            }

            var actor = job.Token is null ? job.SubmittedBy : $"{job.SubmittedBy}/{job.Token}";
            await RecordEventAsync(connection, transaction, actor, "job.submit", job.Id,
                new() { ["kind"] = job.Kind.ToString().ToLowerInvariant(), ["spec"] = job.Spec }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> UpdateJobAsync(Job job, int expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        job = job with { Revision = expectedRevision + 1 };
        return WriteAsync(async (connection, transaction) => await ExecuteAsync(connection, transaction,
            "UPDATE jobs SET status = @status, revision = @revision, job_json = @json WHERE id = @id AND revision = @expected",
            [.. JobParameters(job), ("@expected", (long)expectedRevision)], cancellationToken).ConfigureAwait(false) == 1, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Job?> GetJobAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(async connection => (await QueryJobsAsync(connection, null, "WHERE id = @id", [("@id", id)], cancellationToken).ConfigureAwait(false)).FirstOrDefault(),
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Job>> ListJobsAsync(string? submittedBy, int limit, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<Job>>(async connection => await QueryJobsAsync(connection, null,
            $"{(submittedBy is null ? "" : "WHERE submitted_by = @by ")}ORDER BY submitted_at DESC, id DESC LIMIT @limit",
            [("@by", submittedBy), ("@limit", (long)limit)], cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task AddJobOutputAsync(string id, JobFile output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        return WriteAsync(async (connection, transaction) =>
        {
            var job = (await QueryJobsAsync(connection, transaction, "WHERE id = @id", [("@id", id)], cancellationToken).ConfigureAwait(false)).FirstOrDefault()
                ?? throw CairnException.NotFound($"There is no job '{id}'.");
            // Outputs share the table of the files a job came with, under a folder of their own.
            await ExecuteAsync(connection, transaction, "INSERT INTO job_files (job_id, path, content_hash, size_bytes) VALUES (@id, @path, @hash, @size)",
                [("@id", id), ("@path", $"outputs/{output.Path}"), ("@hash", output.ContentHash.ToString()), ("@size", output.SizeBytes)], cancellationToken).ConfigureAwait(false);
            var changed = job with { Outputs = [.. job.Outputs, output], Revision = job.Revision + 1 };
            await ExecuteAsync(connection, transaction, "UPDATE jobs SET revision = @revision, job_json = @json WHERE id = @id",
                [("@id", id), ("@revision", (long)changed.Revision), ("@json", JsonSerializer.Serialize(changed, CairnJson.Compact.Job))], cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task SaveScheduleFilesAsync(string schedule, IReadOnlyList<JobFile> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        return WriteAsync(async (connection, transaction) =>
        {
            await ExecuteAsync(connection, transaction, "DELETE FROM schedule_files WHERE schedule = @s", [("@s", schedule)], cancellationToken).ConfigureAwait(false);
            foreach (var file in files)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO schedule_files (schedule, path, content_hash, size_bytes) VALUES (@s, @path, @hash, @size)",
                    [("@s", schedule), ("@path", file.Path), ("@hash", file.ContentHash.ToString()), ("@size", file.SizeBytes)], cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteScheduleFilesAsync(string schedule, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) => await ExecuteAsync(connection, transaction, "DELETE FROM schedule_files WHERE schedule = @s", [("@s", schedule)],
            cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <inheritdoc />
    public Task AppendJobLogAsync(string id, IReadOnlyList<(DateTimeOffset At, string Text)> lines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        // Only the job's own worker writes its log, so the append locks that job alone.
        return WriteAsync($"job/{id}", async (connection, transaction) =>
        {
            var last = await ScalarAsync(connection, transaction, "SELECT MAX(sequence) FROM job_log WHERE job_id = @id", [("@id", id)], cancellationToken)
                .ConfigureAwait(false) is { } value ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : 0;
            foreach (var (at, text) in lines)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO job_log (job_id, sequence, at, text) VALUES (@id, @sequence, @at, @text)",
                    [("@id", id), ("@sequence", ++last), ("@at", at.ToUnixTimeMilliseconds()), ("@text", text)], cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JobLogLine>> ReadJobLogAsync(string id, long after, int limit, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<JobLogLine>>(async connection => await QueryAsync(connection, null,
            "SELECT sequence, at, text FROM job_log WHERE job_id = @id AND sequence > @after ORDER BY sequence LIMIT @limit",
            [("@id", id), ("@after", after), ("@limit", (long)limit)], r => new JobLogLine(r.GetInt64(0), Time(r.GetInt64(1)), r.GetString(2)), cancellationToken)
            .ConfigureAwait(false), cancellationToken);

    private static (string, object?)[] JobParameters(Job job) =>
    [
        ("@id", job.Id), ("@by", job.SubmittedBy), ("@at", job.SubmittedAt.ToUnixTimeMilliseconds()), ("@status", job.Status.ToString().ToLowerInvariant()),
        ("@revision", (long)job.Revision), ("@json", JsonSerializer.Serialize(job, CairnJson.Compact.Job)),
    ];

    private static Task<List<Job>> QueryJobsAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? transaction, string where,
        IEnumerable<(string Name, object? Value)> parameters, CancellationToken cancellationToken) =>
        QueryAsync(connection, transaction, $"SELECT job_json FROM jobs {where}", parameters, r => JsonSerializer.Deserialize(r.GetString(0), CairnJson.Compact.Job)!, cancellationToken);
}

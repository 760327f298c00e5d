using Cairn.Core.Jobs;

namespace Cairn.Core.Ports;

/// <summary>Jobs submitted to a server and their logs.</summary>
public interface IJobStore
{
    /// <summary>Stores a new job (its files' blobs must be stored already) and records its audit event.</summary>
    Task AddJobAsync(Job job, CancellationToken cancellationToken);

    /// <summary>Replaces a job if its revision is still <paramref name="expectedRevision"/>; false if someone changed it since.</summary>
    Task<bool> UpdateJobAsync(Job job, int expectedRevision, CancellationToken cancellationToken);

    /// <summary>A job by id.</summary>
    Task<Job?> GetJobAsync(string id, CancellationToken cancellationToken);

    /// <summary>The newest jobs, newest first; only <paramref name="submittedBy"/>'s when given.</summary>
    Task<IReadOnlyList<Job>> ListJobsAsync(string? submittedBy, int limit, CancellationToken cancellationToken);

    /// <summary>Records a file a job wrote (its blob stored already), so `cairn gc` keeps it, and adds it to the job's outputs.</summary>
    Task AddJobOutputAsync(string id, JobFile output, CancellationToken cancellationToken);

    /// <summary>Records the files a schedule's runs start from (their blobs stored already), replacing any it had, so `cairn gc` keeps them.</summary>
    Task SaveScheduleFilesAsync(string schedule, IReadOnlyList<JobFile> files, CancellationToken cancellationToken);

    /// <summary>Forgets a schedule's files.</summary>
    Task DeleteScheduleFilesAsync(string schedule, CancellationToken cancellationToken);

    /// <summary>Appends lines to a job's log.</summary>
    Task AppendJobLogAsync(string id, IReadOnlyList<(DateTimeOffset At, string Text)> lines, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="limit"/> lines of a job's log after line <paramref name="after"/>, in order.</summary>
    Task<IReadOnlyList<JobLogLine>> ReadJobLogAsync(string id, long after, int limit, CancellationToken cancellationToken);
}

/// <summary>Hands jobs to the workers: a stored job now, or a pipeline on a schedule.</summary>
public interface IJobQueue
{
    /// <summary>Queues the job <paramref name="jobId"/>: one worker runs it, and another takes it over if that one dies.</summary>
    Task EnqueueAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Schedules (or reschedules) <paramref name="template"/>, a pipeline job that came with its files: each firing runs
    /// a copy of it as a job of its own. <paramref name="cron"/> is a Quartz or Unix cron expression.
    /// </summary>
    Task<Pipelines.PipelineSchedule> ScheduleAsync(string name, string cron, Jobs.Job template, CancellationToken cancellationToken);

    /// <summary>Removes a schedule; a missing one is <see cref="ErrorCode.NotFound"/>.</summary>
    Task UnscheduleAsync(string name, CancellationToken cancellationToken);
}

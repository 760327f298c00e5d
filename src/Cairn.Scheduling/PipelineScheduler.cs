using System.Collections.Specialized;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Jobs;
using Cairn.Core.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace Cairn.Scheduling;

/// <summary>Where schedules are kept: a SQLite file (one worker) or a PostgreSQL database (a cluster of workers).</summary>
/// <param name="ConnectionString">The ADO.NET connection string.</param>
/// <param name="Clustered">Whether this is the PostgreSQL store that many workers share.</param>
public sealed record JobStore(string ConnectionString, bool Clustered)
{
    /// <summary>The embedded store: a SQLite file.</summary>
    public static JobStore Sqlite(string path) => new($"Data Source={path};Pooling=True", Clustered: false);

    /// <summary>The team store: Quartz's tables in the team's PostgreSQL database, shared by every worker.</summary>
    public static JobStore PostgreSql(string connectionString) => new(connectionString, Clustered: true);
}

/// <summary>
/// Pipeline schedules and their execution on Quartz.NET, kept in a persistent job store so that schedules survive a
/// restart, and a job a dead worker was running is fired again (Quartz's job recovery); the re-run resumes from the
/// step cache. The embedded store is a SQLite file for one worker; in team mode Quartz's clustered store lives in the
/// team's PostgreSQL database, and any number of workers share the schedules, each firing running on one of them.
/// </summary>
public sealed partial class PipelineScheduler : IAsyncDisposable
{
    private const string Group = "pipelines";
    private const string JobsGroup = "jobs";
    private readonly IScheduler _scheduler;
    private readonly ServiceProvider _provider;

    private PipelineScheduler(IScheduler scheduler, ServiceProvider provider) => (_scheduler, _provider) = (scheduler, provider);

    /// <summary>Opens <paramref name="store"/> (its tables are created on first use); jobs get the pipeline runner from <paramref name="services"/>.</summary>
    public static async Task<PipelineScheduler> OpenAsync(JobStore store, IServiceProvider services, int concurrency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(services);
        var properties = new NameValueCollection
        {
            ["quartz.scheduler.instanceName"] = "cairn",
            ["quartz.scheduler.instanceId"] = "AUTO",
            // Pick up schedules other processes add within a second, not Quartz's default 30.
            ["quartz.scheduler.idleWaitTime"] = "1000",
            ["quartz.threadPool.maxConcurrency"] = concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["quartz.jobStore.type"] = "Quartz.Impl.AdoJobStore.JobStoreTX, Quartz",
            ["quartz.jobStore.driverDelegateType"] = store.Clustered
                ? "Quartz.Impl.AdoJobStore.PostgreSQLDelegate, Quartz"
                : "Quartz.Impl.AdoJobStore.SQLiteDelegate, Quartz",
            ["quartz.jobStore.dataSource"] = "cairn",
            ["quartz.jobStore.useProperties"] = "true",
            // Quartz creates its tables in a new store, and checks an existing store's schema matches this version.
            ["quartz.jobStore.schemaProvisioning"] = "CreateIfMissing",
            ["quartz.jobStore.misfireThreshold"] = "60000",
            // Clustered workers share triggers through row locks; a worker that stops checking in has its jobs recovered by another.
            ["quartz.jobStore.clustered"] = store.Clustered ? "true" : "false",
            ["quartz.jobStore.clusterCheckinInterval"] = "5000",
            ["quartz.dataSource.cairn.provider"] = store.Clustered ? "Npgsql" : "SQLite-Microsoft",
            ["quartz.dataSource.cairn.connectionString"] = store.ConnectionString,
            ["quartz.serializer.type"] = "stj",
        };
        // Quartz builds its jobs from a container of its own; the pipeline runner comes from Cairn's.
        var quartz = new ServiceCollection();
        quartz.AddSingleton(_ => services.GetRequiredService<PipelineRunner>());
        quartz.AddSingleton(_ => services.GetRequiredService<JobService>());
        quartz.AddQuartz(properties, _ => { });
        var provider = quartz.BuildServiceProvider();
        var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler(cancellationToken).ConfigureAwait(false);
        return new PipelineScheduler(scheduler, provider);
    }

    /// <summary>
    /// Schedules (or reschedules) the pipeline at <paramref name="pipelinePath"/>; <paramref name="cron"/> is a Quartz
    /// expression (seconds first) or a five-field Unix one. The pipeline and its parameters are checked now, not at 3 a.m.
    /// </summary>
    public async Task<PipelineSchedule> ScheduleAsync(string name, string pipelinePath, string cron, IReadOnlyDictionary<string, string> parameters,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Names.Validate(name, "schedule");
        var path = Path.GetFullPath(pipelinePath);
        var spec = File.Exists(path) ? PipelineSpec.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false))
            : throw CairnException.NotFound($"Pipeline '{pipelinePath}' does not exist.");
        var unknown = parameters.Keys.Where(k => spec.Parameters.All(p => p.Name != k)).ToList();
        if (unknown.Count > 0)
        {
            throw CairnException.Invalid($"--param {string.Join(", ", unknown)}: {spec.Name} declares no such parameter.");
        }

        return await ScheduleAsync(name, spec.Name, path, cron, parameters, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Schedules (or reschedules) a pipeline that came with its files (<paramref name="template"/>, a job a server
    /// checked and stored): each firing runs a copy of it as a job of its own, with its sender's rights.
    /// </summary>
    public Task<PipelineSchedule> ScheduleAsync(string name, string cron, Job template, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(template);
        Names.Validate(name, "schedule");
        return ScheduleAsync(name, template.Spec, $"{template.Spec} (sent by {template.SubmittedBy}, {template.Files.Count} file(s))", cron, template.Parameters,
            JsonSerializer.Serialize(template, CairnJson.Compact.Job), cancellationToken);
    }

    private async Task<PipelineSchedule> ScheduleAsync(string name, string description, string pipeline, string cron, IReadOnlyDictionary<string, string> parameters,
        string? template, CancellationToken cancellationToken)
    {
        var expression = ToQuartzCron(cron);
        var builder = JobBuilder.Create<PipelineJob>()
            .WithIdentity(name, Group)
            .WithDescription(description)
            .UsingJobData(PipelineJob.PipelineKey, pipeline)
            .UsingJobData(PipelineJob.ParametersKey, JsonSerializer.Serialize(parameters.ToDictionary(p => p.Key, p => p.Value), ScheduleJson.Default.DictionaryStringString))
            .StoreDurably(true)
            // A run a dead process left half done is fired again when a worker starts.
            .RequestRecovery(true);
        var job = (template is null ? builder : builder.UsingJobData(PipelineJob.TemplateKey, template)).Build();
        var trigger = TriggerBuilder.Create()
            .WithIdentity(name, Group)
            .ForJob(job)
            .WithCronSchedule(expression)
            .Build();
        await _scheduler.ScheduleJob(job, [trigger], ScheduleJobOptions.Replacing, cancellationToken).ConfigureAwait(false);
        return (await ListAsync(cancellationToken).ConfigureAwait(false)).Single(s => s.Name == name);
    }

    /// <summary>Queues a submitted job to run once on a worker, and again on another if that one dies running it.</summary>
    public async Task EnqueueJobAsync(string jobId, CancellationToken cancellationToken)
    {
        var job = JobBuilder.Create<RemoteJob>()
            .WithIdentity(jobId, JobsGroup)
            .WithDescription("a submitted job")
            .UsingJobData(RemoteJob.JobIdKey, jobId)
            .RequestRecovery(true)
            .Build();
        var trigger = TriggerBuilder.Create().WithIdentity(jobId, JobsGroup).ForJob(job).StartNow().Build();
        await _scheduler.ScheduleJob(job, [trigger], new ScheduleJobOptions(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every schedule, by name.</summary>
    public async Task<IReadOnlyList<PipelineSchedule>> ListAsync(CancellationToken cancellationToken)
    {
        var result = new List<PipelineSchedule>();
        var jobs = await _scheduler.QueryJobs(new JobQuery { Group = GroupMatcher<JobKey>.GroupEquals(Group), Take = 1000 }, cancellationToken).ConfigureAwait(false);
        foreach (var key in jobs.Items.Select(j => j.Key).OrderBy(k => k.Name, StringComparer.Ordinal))
        {
            var job = await _scheduler.GetJobDetail(key, cancellationToken).ConfigureAwait(false);
            var trigger = await _scheduler.GetTrigger(new TriggerKey(key.Name, Group), cancellationToken).ConfigureAwait(false) as ICronTrigger;
            if (job is null || trigger is null)
            {
                continue;
            }

            var state = await _scheduler.GetTriggerState(trigger.Key, cancellationToken).ConfigureAwait(false);
            var parameters = JsonSerializer.Deserialize(PipelineJob.Text(job.JobDataMap, PipelineJob.ParametersKey) ?? "{}", ScheduleJson.Default.DictionaryStringString) ?? [];
            result.Add(new PipelineSchedule(key.Name, PipelineJob.Text(job.JobDataMap, PipelineJob.PipelineKey) ?? "", trigger.CronExpressionString ?? "", parameters,
                trigger.NextFireTimeUtc, trigger.PreviousFireTimeUtc, state.ToString().ToLowerInvariant()));
        }

        return result;
    }

    /// <summary>Removes a schedule.</summary>
    public async Task UnscheduleAsync(string name, CancellationToken cancellationToken)
    {
        if (!await _scheduler.DeleteJob(new JobKey(name, Group), cancellationToken).ConfigureAwait(false))
        {
            throw CairnException.NotFound($"There is no schedule '{name}'.");
        }
    }

    /// <summary>
    /// Runs scheduled pipelines until cancelled, or until <paramref name="maxRuns"/> pipeline runs have finished.
    /// Starting recovers jobs a dead worker left running.
    /// </summary>
    public async Task RunAsync(int? maxRuns, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = new CompletionListener(maxRuns, progress, done);
        _scheduler.ListenerManager.AddJobListener(listener, [GroupMatcher<JobKey>.GroupEquals(Group), GroupMatcher<JobKey>.GroupEquals(JobsGroup)]);
        await _scheduler.Start(cancellationToken).ConfigureAwait(false);
        try
        {
            await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping is the normal way out of a worker.
        }
        finally
        {
            // Running pipelines are allowed to finish: a worker that stops cleanly leaves nothing to recover.
            await _scheduler.Shutdown(true, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_scheduler.Status != SchedulerStatus.Shutdown)
        {
            await _scheduler.Shutdown(false, CancellationToken.None).ConfigureAwait(false);
        }

        await _provider.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A Quartz cron expression from a Quartz one (6–7 fields) or a Unix one (5 fields, Sunday = 0).</summary>
    public static string ToQuartzCron(string cron)
    {
        ArgumentNullException.ThrowIfNull(cron);
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string expression;
        if (fields.Length == 5)
        {
            var (dayOfMonth, dayOfWeek) = (fields[2], fields[4]);
            // Quartz counts weekdays from Sunday = 1 and wants '?' in one of the two day fields.
            dayOfWeek = DayNumber().Replace(dayOfWeek, m => ((int.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture) % 7) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            (dayOfMonth, dayOfWeek) = dayOfWeek == "*" ? (dayOfMonth, "?") : dayOfMonth == "*" ? ("?", dayOfWeek) : (dayOfMonth, dayOfWeek);
            expression = $"0 {fields[0]} {fields[1]} {dayOfMonth} {fields[3]} {dayOfWeek}";
        }
        else
        {
            expression = string.Join(' ', fields);
        }

        try
        {
            CronExpression.Parse(expression);
        }
        catch (FormatException e)
        {
            throw CairnException.Invalid(
                $"The cron expression '{cron}' is not valid ({e.Message}). Use five Unix fields (minute hour day month weekday) or Quartz's six or seven (seconds first).");
        }

        return expression;
    }

    [GeneratedRegex("[0-9]+")]
    private static partial Regex DayNumber();

    private sealed class CompletionListener(int? maxRuns, IProgress<string>? progress, TaskCompletionSource done) : IJobListener
    {
        private int _finished;

        public string Name => "cairn-completion";

        public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            progress?.Report($"{context.JobDetail.Key.Name}: starting {context.JobDetail.Description}{(context.Recovering ? " (recovering an interrupted run)" : "")}");
            return ValueTask.CompletedTask;
        }

        public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask JobProgressChanged(IJobExecutionContext context, Quartz.Extensibility.FireInstanceProgress progress, CancellationToken cancellationToken) =>
            ValueTask.CompletedTask;

        public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken)
        {
            progress?.Report(jobException is null
                ? $"{context.JobDetail.Key.Name}: {context.Result}"
                : $"{context.JobDetail.Key.Name}: could not run: {(jobException.InnerException ?? jobException).Message}");
            if (maxRuns is { } limit && Interlocked.Increment(ref _finished) >= limit)
            {
                done.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }
    }
}

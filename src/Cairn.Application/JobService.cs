using System.Collections.Concurrent;
using System.IO.Compression;
using Cairn.Application.Identity;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Jobs;
using Cairn.Core.Pipelines;
using Cairn.Core.Ports;
using Cairn.Core.Training;

namespace Cairn.Application;

/// <summary>
/// Work a user hands to the server's workers (<c>cairn train|sweep|pipelines run --remote</c>): the spec and the local
/// files it names arrive as one zip, are checked, stored as blobs and queued; a worker unpacks them into a folder of its
/// own and runs them with the submitter's rights, writing the progress a local command would print to the job's log.
/// </summary>
public sealed class JobService(IJobStore store, IArtifactStore artifacts, IJobQueue queue, Actor actor, Authenticator authenticator, IIdentityStore identity,
    TrainingService training, SweepService sweeps, PipelineRunner pipelines, EvaluationService evaluations, BatchScoring scoring, PolicyRunner policies,
    TimeProvider time)
{
    /// <summary>The most files one job may carry.</summary>
    public const int MaxFiles = 1000;

    /// <summary>How often a running job's log reaches the store, and how often its worker looks for a cancellation.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan CancelCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Checks and queues a job of a kind that takes parameters alone (evaluate, reproduce).</summary>
    public Task<Job> SubmitAsync(JobKind kind, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        actor.Demand(ResourceRef.Global, Role.Editor, "run jobs on the server's workers");
        if (Job.TakesSpec(kind))
        {
            throw CairnException.Invalid($"A {Name(kind)} job comes with its spec and files (a zip body).");
        }

        string[] required = kind switch { JobKind.Evaluate => ["model", "dataset"], JobKind.Predict => ["model", "dataset"], JobKind.Policy => ["deployment"], _ => ["run"] };
        string[] allowed = kind switch
        {
            JobKind.Evaluate => ["model", "dataset", "slices"], JobKind.Predict => ["model", "dataset", "output"], JobKind.Policy => ["deployment"], _ => ["run"],
        };
        if (required.FirstOrDefault(r => string.IsNullOrWhiteSpace(parameters.GetValueOrDefault(r))) is { } missing)
        {
            throw CairnException.Invalid($"A {Name(kind)} job needs the parameter '{missing}'.");
        }

        if (parameters.Keys.FirstOrDefault(k => !allowed.Contains(k)) is { } unknown)
        {
            throw CairnException.Invalid($"A {Name(kind)} job takes no parameter '{unknown}'; it takes {string.Join(", ", allowed)}.");
        }

        if (kind is JobKind.Evaluate or JobKind.Predict)
        {
            _ = Core.Data.DatasetRef.Parse(parameters["dataset"]);
            _ = OutputName(parameters);
        }
        else if (kind == JobKind.Policy)
        {
            Names.Validate(parameters["deployment"], "deployment");
        }
        else if (!Ids.IsRunId(parameters["run"]))
        {
            throw CairnException.Invalid($"'{parameters["run"]}' is not a run id (32 lowercase hex characters).");
        }

        return QueueAsync(kind, "", parameters, [], cancellationToken);
    }

    /// <summary>
    /// Checks and queues a job: <paramref name="bundle"/> is a zip holding <paramref name="spec"/> (a path inside it) and
    /// the files it names, at most <paramref name="maxBytes"/> unpacked. Nothing is stored unless all of it is right.
    /// </summary>
    public async Task<Job> SubmitAsync(JobKind kind, string spec, IReadOnlyDictionary<string, string> parameters, Stream bundle, long maxBytes,
        CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Global, Role.Editor, "run jobs on the server's workers");
        var files = await StoreBundleAsync(kind, spec, parameters, bundle, maxBytes, cancellationToken).ConfigureAwait(false);
        return await QueueAsync(kind, RelativePath(spec), parameters, files, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Schedules a pipeline that comes with its files (a zip, as for <see cref="SubmitAsync(JobKind, string, IReadOnlyDictionary{string, string}, Stream, long, CancellationToken)"/>):
    /// each firing runs a copy as a job of its own, with the rights of whoever scheduled it as they are then.
    /// </summary>
    public async Task<Core.Pipelines.PipelineSchedule> ScheduleAsync(string name, string cron, string spec, IReadOnlyDictionary<string, string> parameters, Stream bundle,
        long maxBytes, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Global, Role.Editor, "schedule pipelines");
        Names.Validate(name, "schedule");
        var files = await StoreBundleAsync(JobKind.Pipeline, spec, parameters, bundle, maxBytes, cancellationToken).ConfigureAwait(false);
        var template = NewJob(JobKind.Pipeline, RelativePath(spec), parameters, files) with { Schedule = name };
        // The files are recorded first: a blob nothing refers to may be collected.
        await store.SaveScheduleFilesAsync(name, files, cancellationToken).ConfigureAwait(false);
        return await queue.ScheduleAsync(name, cron, template, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a schedule and forgets its files.</summary>
    public async Task UnscheduleAsync(string name, CancellationToken cancellationToken)
    {
        actor.Demand(ResourceRef.Global, Role.Maintainer, "remove pipeline schedules");
        Names.Validate(name, "schedule");
        await queue.UnscheduleAsync(name, cancellationToken).ConfigureAwait(false);
        await store.DeleteScheduleFilesAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One firing of a schedule whose pipeline came with its files: a copy of <paramref name="template"/> becomes a job
    /// of its own (so `cairn jobs` shows each firing's log) and runs here. <paramref name="recovering"/> says a worker
    /// died during the previous firing: that firing's job is ended as failed first.
    /// </summary>
    public async Task<Job> RunScheduledAsync(Job template, string schedule, string worker, bool recovering, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (recovering)
        {
            foreach (var stale in (await store.ListJobsAsync(template.SubmittedBy, 100, cancellationToken).ConfigureAwait(false))
                .Where(j => j.Schedule == schedule && j.Status == JobStatus.Running))
            {
                await UpdateAsync(stale.Id, j => j with { Status = JobStatus.Failed, EndedAt = time.GetUtcNow(), Error = $"{j.Worker} stopped while it ran" }, cancellationToken)
                    .ConfigureAwait(false);
            }

            await pipelines.InterruptScheduledAsync(schedule, cancellationToken).ConfigureAwait(false);
        }

        var job = template with { Id = Ids.NewRunId(), SubmittedAt = time.GetUtcNow(), Status = JobStatus.Queued, Revision = 0 };
        await store.AddJobAsync(job, cancellationToken).ConfigureAwait(false);
        return await RunAsync(job.Id, worker, recovering: false, cancellationToken).ConfigureAwait(false);
    }

    // Unpacks, checks and stores the files of a job that comes with them; returns them as stored.
    private async Task<IReadOnlyList<JobFile>> StoreBundleAsync(JobKind kind, string spec, IReadOnlyDictionary<string, string> parameters, Stream bundle, long maxBytes,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(bundle);
        if (!Job.TakesFiles(kind))
        {
            throw CairnException.Invalid($"A {Name(kind)} job takes parameters alone, not files.");
        }

        spec = RelativePath(spec);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var zip = new ZipArchive(bundle, ZipArchiveMode.Read, leaveOpen: true);
            if (zip.Entries.Count > MaxFiles)
            {
                throw CairnException.Invalid($"The job carries {zip.Entries.Count} files; at most {MaxFiles} are allowed.");
            }

            // Sizes are checked from the zip's directory before anything is inflated, and again as it inflates.
            var declared = zip.Entries.Sum(e => e.Length);
            if (declared > maxBytes)
            {
                throw CairnException.Invalid($"The job's files come to {declared:N0} bytes unpacked; this server takes at most {maxBytes:N0}.");
            }

            foreach (var entry in zip.Entries.Where(e => !e.FullName.EndsWith('/')))
            {
                var path = RelativePath(entry.FullName);
                await using var content = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
                // Read one byte past the declared size at most: an entry that lies about its size is caught without inflating the rest.
                var bytes = new byte[entry.Length + 1];
                var read = await content.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                files[path] = read <= entry.Length ? bytes[..read] : throw CairnException.Invalid($"'{path}' inflates past the size its zip entry declares.");
            }
        }
        catch (InvalidDataException e)
        {
            throw CairnException.Invalid($"The job's files are not a readable zip archive: {e.Message}");
        }

        var text = !files.TryGetValue(spec, out var specBytes) ? throw CairnException.Invalid($"The job names its spec '{spec}', but no file of that path came with it.")
            : Job.TakesSpec(kind) ? System.Text.Encoding.UTF8.GetString(specBytes) : "";
        Check(kind, spec, text, parameters, files.Keys);

        var stored = new List<JobFile>();
        foreach (var (path, bytes) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            using var content = new MemoryStream(bytes, writable: false);
            var blob = await artifacts.PutAsync(content, cancellationToken).ConfigureAwait(false);
            stored.Add(new JobFile(path, blob.ContentHash, blob.SizeBytes));
        }

        return stored;
    }

    private async Task<Job> QueueAsync(JobKind kind, string spec, IReadOnlyDictionary<string, string> parameters, IReadOnlyList<JobFile> files,
        CancellationToken cancellationToken)
    {
        var job = NewJob(kind, spec, parameters, files);
        await store.AddJobAsync(job, cancellationToken).ConfigureAwait(false);
        await queue.EnqueueAsync(job.Id, cancellationToken).ConfigureAwait(false);
        return job;
    }

    // A job sent by the caller, who it runs as.
    private Job NewJob(JobKind kind, string spec, IReadOnlyDictionary<string, string> parameters, IReadOnlyList<JobFile> files)
    {
        var principal = actor.Principal;
        return new Job
        {
            Id = Ids.NewRunId(),
            Kind = kind,
            Spec = spec,
            Parameters = new Dictionary<string, string>(parameters, StringComparer.Ordinal),
            Files = files,
            SubmittedBy = principal.Name,
            AsAccount = principal.Id is not null,
            Token = principal.Token,
            Cap = principal.Cap,
            SubmittedAt = time.GetUtcNow(),
        };
    }

    /// <summary>The newest jobs: the caller's own, or everyone's for an administrator.</summary>
    public Task<IReadOnlyList<Job>> ListAsync(int limit, CancellationToken cancellationToken) =>
        store.ListJobsAsync(actor.Principal.IsUnrestricted ? null : actor.Principal.Name, Math.Clamp(limit, 1, 1000), cancellationToken);

    /// <summary>A job the caller submitted (any job, for an administrator).</summary>
    public async Task<Job> GetAsync(string? id, CancellationToken cancellationToken)
    {
        var job = Ids.IsRunId(id ?? "") ? await store.GetJobAsync(id!, cancellationToken).ConfigureAwait(false) : null;
        if (job is null || (!actor.Principal.IsUnrestricted && job.SubmittedBy != actor.Principal.Name))
        {
            // Someone else's job is as absent as a job that never was: its existence is theirs to know.
            throw CairnException.NotFound($"There is no job '{id}' of yours; list them with: cairn jobs list");
        }

        return job;
    }

    /// <summary>At most <paramref name="limit"/> lines of a job's log after line <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<JobLogLine>> LogAsync(string? id, long after, int limit, CancellationToken cancellationToken)
    {
        var job = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        return await store.ReadJobLogAsync(job.Id, Math.Max(0, after), Math.Clamp(limit, 1, 10_000), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels a job: a queued one at once, a running one by its worker within about a second.</summary>
    public async Task<Job> CancelAsync(string? id, CancellationToken cancellationToken)
    {
        var job = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var by = actor.Name;
        return await UpdateAsync(job.Id, current => current switch
        {
            { IsFinished: true } => throw new CairnException(ErrorCode.Conflict, $"Job {current.Id} already ended ({Name(current.Status)})."),
            { Status: JobStatus.Queued } => current with { Status = JobStatus.Cancelled, EndedAt = time.GetUtcNow(), Error = $"cancelled by {by} before it started" },
            _ => current with { CancelRequested = true, Error = $"cancelled by {by}" },
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a queued job on this worker (<paramref name="worker"/> names it) and returns how it ended.
    /// <paramref name="recovering"/> says a worker died running it before; it starts again from the beginning (a
    /// pipeline's finished steps come from its cache).
    /// </summary>
    public async Task<Job> RunAsync(string id, string worker, bool recovering, CancellationToken cancellationToken)
    {
        var job = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? throw CairnException.NotFound($"There is no job '{id}'.");
        if (job.IsFinished)
        {
            return job; // cancelled while it waited
        }

        await using var log = new JobLog(store, id, time);
        if (recovering || job.Status == JobStatus.Running)
        {
            log.Report($"The worker running this job ({job.Worker}) stopped; {worker} starts it again.");
            await pipelines.InterruptJobRunsAsync(id, cancellationToken).ConfigureAwait(false);
        }

        job = await UpdateAsync(id, j => j with { Status = JobStatus.Running, StartedAt = time.GetUtcNow(), Worker = worker, Attempts = j.Attempts + 1 }, cancellationToken)
            .ConfigureAwait(false);
        var folder = Directory.CreateTempSubdirectory("cairn-job-");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watching = WatchForCancelAsync(id, cancel);
        try
        {
            actor.Become(await PrincipalOfAsync(job, cancellationToken).ConfigureAwait(false));
            foreach (var file in job.Files)
            {
                var target = Path.GetFullPath(RelativePath(file.Path), folder.FullName);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                await using var content = await artifacts.OpenReadAsync(file.ContentHash, cancellationToken).ConfigureAwait(false);
                await using var output = File.Create(target);
                await content.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }

            log.Report($"Job {id} ({Describe(job)}) started on {worker} for {job.SubmittedBy}.");
            var (runId, failed, result) = await ExecuteAsync(job, Path.Combine(folder.FullName, job.Spec), log, cancel.Token).ConfigureAwait(false);
            log.Report(result);
            return await FinishAsync(id, j => j with { Status = failed ? JobStatus.Failed : JobStatus.Succeeded, RunId = runId, Result = result }, log).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            log.Report("Cancelled.");
            return await FinishAsync(id, j => j with { Status = JobStatus.Cancelled }, log).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            log.Report($"{worker} stopped while the job ran.");
            return await FinishAsync(id, j => j with { Status = JobStatus.Failed, Error = $"{worker} stopped while it ran; submit it again" }, log).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.Report($"Failed: {e.Message}");
            return await FinishAsync(id, j => j with { Status = JobStatus.Failed, Error = e.Message }, log).ConfigureAwait(false);
        }
        finally
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            actor.BecomeProcess();
            folder.Delete(recursive: true);
        }
    }

    /// <summary>What a job does, in a few words: its kind and spec, or its arguments.</summary>
    public static string Describe(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Job.TakesSpec(job.Kind) ? $"{Name(job.Kind)} {job.Spec}"
            : $"{Name(job.Kind)} {string.Join(" ", job.Parameters.Select(p => $"{p.Key}={p.Value}"))}";
    }

    // The output's file name: CSV unless it ends in .parquet, and never a path.
    private static string OutputName(IReadOnlyDictionary<string, string> parameters)
    {
        var name = parameters.GetValueOrDefault("output") ?? "predictions.csv";
        return name == Path.GetFileName(name) && name is not ("." or "..") && (name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
            ? name : throw CairnException.Invalid($"The output '{name}' is not a file name ending in .csv or .parquet.");
    }

    /// <summary>Opens a file a job wrote, for its submitter to download.</summary>
    public async Task<(JobFile File, Stream Content)> OpenOutputAsync(string? id, string? name, CancellationToken cancellationToken)
    {
        var job = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var file = job.Outputs.FirstOrDefault(o => o.Path == name) ?? throw CairnException.NotFound($"Job {job.Id} wrote no file '{name}'.");
        return (file, await artifacts.OpenReadAsync(file.ContentHash, cancellationToken).ConfigureAwait(false));
    }

    private async Task<(string? RunId, bool Failed, string Result)> ExecuteAsync(Job job, string specPath, IProgress<string> log, CancellationToken cancellationToken)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["cairn.job"] = job.Id };
        if (job.Schedule is { } schedule)
        {
            tags["cairn.schedule"] = schedule; // so a recovered firing finds the runs its dead worker left
        }

        switch (job.Kind)
        {
            case JobKind.Evaluate:
                var slices = job.Parameters.GetValueOrDefault("slices") is { Length: > 0 } s ? s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
                var evaluated = await evaluations.EvaluateAsync(job.Parameters["model"], Core.Data.DatasetRef.Parse(job.Parameters["dataset"]),
                    new Core.Evaluation.EvaluationOptions(slices), cancellationToken).ConfigureAwait(false);
                return (evaluated.Run.Id, false,
                    $"Evaluated {evaluated.Run.Params["model"]} on {evaluated.Run.Params["dataset"]} ({evaluated.Report.Rows:N0} labelled rows) in run {evaluated.Run.Id}: {Metrics(evaluated.Run)}");
            case JobKind.Predict:
                var output = Path.Combine(Path.GetDirectoryName(specPath)!, "outputs", OutputName(job.Parameters));
                Directory.CreateDirectory(Path.GetDirectoryName(output)!);
                var started = time.GetTimestamp();
                var scored = job.Parameters.TryGetValue("dataset", out var dataset)
                    ? await scoring.ScoreAsync(job.Parameters["model"], Core.Data.DatasetRef.Parse(dataset), output, cancellationToken).ConfigureAwait(false)
                    : await scoring.ScoreFileAsync(job.Parameters["model"], specPath, output, cancellationToken).ConfigureAwait(false);
                var seconds = time.GetElapsedTime(started).TotalSeconds;
                await using (var written = File.OpenRead(output))
                {
                    var blob = await artifacts.PutAsync(written, cancellationToken).ConfigureAwait(false);
                    await store.AddJobOutputAsync(job.Id, new JobFile(Path.GetFileName(output), blob.ContentHash, blob.SizeBytes), cancellationToken).ConfigureAwait(false);
                }

                return (null, false, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"Scored {scored.Rows:N0} rows of {(dataset ?? job.Spec)} with {scored.Model} into {Path.GetFileName(output)} in {seconds:0.00} s ({scored.Rows / Math.Max(seconds, 1e-9):N0} rows/s)"));
            case JobKind.Policy:
                var policy = await policies.StartAsync(job.Parameters["deployment"], "manual", log, cancellationToken).ConfigureAwait(false);
                return (null, policy.State == Core.Monitoring.PolicyRunState.Failed,
                    $"Policy run {policy.Id}: {policy.State.ToString().ToLowerInvariant()} ({policy.Events[^1].Message})");
            case JobKind.Reproduce:
                var reproduced = await training.ReproduceAsync(job.Parameters["run"], log, cancellationToken).ConfigureAwait(false);
                var differing = reproduced.Metrics.Where(m => !m.Matches).Select(m => m.Key).ToList();
                return (reproduced.Reproduced.Id, !reproduced.Matches, reproduced.Matches
                    ? $"Reproduced: run {reproduced.Reproduced.Id} matches run {reproduced.Original.Id} (every metric, and the ONNX model's bytes)"
                    : $"Not reproduced: run {reproduced.Reproduced.Id} differs from run {reproduced.Original.Id}"
                        + (differing.Count > 0 ? $" in {string.Join(", ", differing)}" : "") + (reproduced.ModelMatches ? "" : "; the ONNX model's bytes differ"));
        }

        var text = await File.ReadAllTextAsync(specPath, cancellationToken).ConfigureAwait(false);
        switch (job.Kind)
        {
            case JobKind.Train:
                var trained = await training.TrainAsync(TrainingSpec.Parse(text, job.Spec), tags, log, cancellationToken).ConfigureAwait(false);
                return (trained.Run.Id, false, $"Run {trained.Run.Id} {Name(trained.Run.Status)}: {Metrics(trained.Run)}");
            case JobKind.Sweep:
                var swept = await sweeps.RunAsync(SweepSpec.Parse(text, job.Spec), log, cancellationToken).ConfigureAwait(false);
                return (swept.Sweep.Id, false, $"Sweep {swept.Sweep.Id}: best trial {swept.Best.Run.Id} (selected on {swept.SelectedOn})");
            default:
                var result = await pipelines.RunAsync(PipelineSpec.Parse(text, job.Spec), job.Parameters, Path.GetDirectoryName(specPath)!, force: false, log,
                    cancellationToken, tags: [.. tags]).ConfigureAwait(false);
                return (result.RunId, result.Status != Core.Runs.RunStatus.Finished,
                    $"Pipeline run {result.RunId} {Name(result.Status)} ({result.Steps.Count(s => s.Cached)} of {result.Steps.Count} step(s) cached)");
        }
    }

    private static string Metrics(Core.Runs.Run run) =>
        string.Join(", ", run.Metrics.Where(m => !m.Key.StartsWith("baseline.", StringComparison.Ordinal)).Take(4)
            .Select(m => $"{m.Key}={m.Value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)}"));

    private async Task<Job> FinishAsync(string id, Func<Job, Job> change, JobLog log)
    {
        await log.FlushAsync().ConfigureAwait(false);
        // The ending is recorded even when the worker is stopping: a job left running would wait for a recovery that never comes.
        return await UpdateAsync(id, j => change(j) with { EndedAt = time.GetUtcNow() }, CancellationToken.None).ConfigureAwait(false);
    }

    // The job runs with what its submitter may do now (a disabled account runs nothing), capped by the token it was sent with.
    private async Task<Principal> PrincipalOfAsync(Job job, CancellationToken cancellationToken)
    {
        if (!job.AsAccount)
        {
            return Principal.Local(job.SubmittedBy);
        }

        var account = await identity.GetPrincipalAsync(job.SubmittedBy, cancellationToken).ConfigureAwait(false);
        return account is { Disabled: false }
            ? await authenticator.PrincipalForAsync(account, job.Cap, job.Token, cancellationToken).ConfigureAwait(false)
            : throw CairnException.Denied($"{job.SubmittedBy} is disabled or no longer exists; the job does not run.");
    }

    private async Task WatchForCancelAsync(string id, CancellationTokenSource cancel)
    {
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                await Task.Delay(CancelCheckInterval, time, cancel.Token).ConfigureAwait(false);
                if (await store.GetJobAsync(id, cancel.Token).ConfigureAwait(false) is { CancelRequested: true })
                {
                    await cancel.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The job ended, or was cancelled.
        }
    }

    private async Task<Job> UpdateAsync(string id, Func<Job, Job> change, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? throw CairnException.NotFound($"There is no job '{id}'.");
            var changed = change(current);
            if (await store.UpdateJobAsync(changed, current.Revision, cancellationToken).ConfigureAwait(false))
            {
                return changed with { Revision = current.Revision + 1 };
            }
        }
    }

    // What the spec must be for its kind, and every local file a pipeline's steps declare (file: inputs) must have come with it.
    private static void Check(JobKind kind, string spec, string text, IReadOnlyDictionary<string, string> parameters, IEnumerable<string> files)
    {
        switch (kind)
        {
            case JobKind.Predict:
                if (string.IsNullOrWhiteSpace(parameters.GetValueOrDefault("model")) || parameters.Keys.Any(k => k is not ("model" or "output")))
                {
                    throw CairnException.Invalid("A predict job with a file takes the parameters model (required) and output.");
                }

                _ = OutputName(parameters);
                break;
            case JobKind.Train:
                _ = TrainingSpec.Parse(text, spec);
                break;
            case JobKind.Sweep:
                _ = SweepSpec.Parse(text, spec);
                break;
            default:
                var pipeline = PipelineSpec.Parse(text, spec);
                var unknown = parameters.Keys.Where(k => pipeline.Parameters.All(p => p.Name != k)).ToList();
                if (unknown.Count > 0)
                {
                    throw CairnException.Invalid($"--param {string.Join(", ", unknown)}: {pipeline.Name} declares no such parameter.");
                }

                var present = files.ToHashSet(StringComparer.Ordinal);
                var folder = spec.Contains('/', StringComparison.Ordinal) ? spec[..(spec.LastIndexOf('/') + 1)] : "";
                var missing = PipelineFiles(pipeline).Select(f => folder + f).Where(f => !present.Contains(f)).ToList();
                if (missing.Count > 0)
                {
                    throw CairnException.Invalid($"The pipeline reads {string.Join(", ", missing)}, which did not come with the job.");
                }

                break;
        }
    }

    /// <summary>The local files a pipeline reads (its steps' <c>file:</c> inputs), relative to its folder.</summary>
    public static IReadOnlyList<string> PipelineFiles(PipelineSpec pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        return [.. pipeline.Steps.SelectMany(s => s.Inputs).Where(i => i.StartsWith("file:", StringComparison.Ordinal))
            .Select(i => RelativePath(i["file:".Length..])).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// A path inside a job's folder, with '/' separators: never rooted, never climbing out with '..', so a job's files
    /// land in its folder whatever their names say.
    /// </summary>
    public static string RelativePath(string? path)
    {
        var parts = (path ?? "").Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        return parts.Length == 0 || parts.Any(p => p == ".." || p.Contains(':', StringComparison.Ordinal)) || (path ?? "").StartsWith('/') || path!.Length > 1024
            ? throw CairnException.Invalid($"'{path}' is not a path inside the job's folder (a relative path without '..').")
            : string.Join('/', parts);
    }

    private static string Name<T>(T value) where T : Enum => value.ToString().ToLowerInvariant();

    // Progress lines of a running job, written to its log in batches so a chatty trainer costs one write per interval.
    private sealed class JobLog : IProgress<string>, IAsyncDisposable
    {
        private readonly IJobStore _store;
        private readonly string _id;
        private readonly TimeProvider _time;
        private readonly ConcurrentQueue<(DateTimeOffset, string)> _pending = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly SemaphoreSlim _flushing = new(1, 1);
        private readonly Task _loop;

        public JobLog(IJobStore store, string id, TimeProvider time)
        {
            (_store, _id, _time) = (store, id, time);
            _loop = LoopAsync();
        }

        public void Report(string value) => _pending.Enqueue((_time.GetUtcNow(), value));

        public async Task FlushAsync()
        {
            await _flushing.WaitAsync().ConfigureAwait(false);
            try
            {
                var lines = new List<(DateTimeOffset, string)>();
                while (_pending.TryDequeue(out var line))
                {
                    lines.Add(line);
                }

                if (lines.Count > 0)
                {
                    await _store.AppendJobLogAsync(_id, lines, CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                _flushing.Release();
            }
        }

        private async Task LoopAsync()
        {
            try
            {
                while (true)
                {
                    await Task.Delay(FlushInterval, _time, _stop.Token).ConfigureAwait(false);
                    try
                    {
                        await FlushAsync().ConfigureAwait(false);
                    }
                    catch (CairnException)
                    {
                        // The store is briefly unavailable: these lines are lost, the job goes on, and the next interval writes again.
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The job ended; DisposeAsync writes what is left.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
            await FlushAsync().ConfigureAwait(false);
            _stop.Dispose();
            _flushing.Dispose();
        }
    }
}

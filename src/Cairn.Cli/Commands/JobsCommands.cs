using System.CommandLine;
using System.IO.Compression;
using System.Net.Http.Headers;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Jobs;
using Cairn.Core.Pipelines;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn jobs list | show | logs | cancel</c>, and what <c>cairn train|sweep|pipelines run --remote</c> share: the
/// spec and the local files it names go to the server as one zip, a worker runs it, and its log streams back here.
/// </summary>
internal static class JobsCommands
{
    /// <summary>The option that sends a command's work to the server's workers.</summary>
    public static Option<bool> RemoteOption() => new("--remote") { Description = "Run it on the server's workers (the spec and the files it names are uploaded); Ctrl+C detaches" };

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static Command Create(CliApp app)
    {
        var command = new Command("jobs", "Jobs sent to the server's workers with --remote: list, show, follow their logs, cancel");

        var limit = new Option<int>("--limit") { Description = "How many of the newest jobs to list", DefaultValueFactory = _ => 20 };
        var list = new Command("list", "Your newest jobs (everyone's for an administrator)") { limit };
        list.SetAction(app.Handler(NeedsServer, async (context, ct) =>
        {
            var jobs = await context.Remote.GetAsync($"api/jobs?limit={context.Parse.GetValue(limit)}", CairnJson.Default.IReadOnlyListJob, ct);
            if (context.Json)
            {
                context.Console.WriteJson(jobs, CairnJson.Readable.IReadOnlyListJob);
                return 0;
            }

            if (jobs.Count == 0)
            {
                context.Console.Out.MarkupLine("No jobs yet. Send one with: cairn pipelines run FILE.yaml --remote");
                return 0;
            }

            var table = Format.Table(["job"], "job", "kind", "spec", "status", "by", "submitted", "took", "run");
            foreach (var job in jobs)
            {
                table.AddRow(job.Id, Name(job.Kind), Markup.Escape(Job.TakesSpec(job.Kind) ? job.Spec : JobService.Describe(job)[(Name(job.Kind).Length + 1)..]), Status(job), Markup.Escape(job.SubmittedBy), Format.Time(job.SubmittedAt),
                    job is { StartedAt: { } start, EndedAt: { } end } ? Format.Duration(end - start) : "", job.RunId ?? "");
            }

            context.Console.Out.Write(table);
            return 0;
        }));
        command.Subcommands.Add(list);

        var shown = JobArgument();
        var show = new Command("show", "A job: where it stands, its worker, files, and the run it made") { shown };
        show.SetAction(app.Handler(NeedsServer, async (context, ct) => Show(context, await GetAsync(context, context.Parse.GetValue(shown)!, ct))));
        command.Subcommands.Add(show);

        var logged = JobArgument();
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the job ends (Ctrl+C stops following; the job goes on)" };
        var logs = new Command("logs", "A job's log: what the same command prints when run here") { logged, follow };
        logs.SetAction(app.Handler(NeedsServer, async (context, ct) =>
        {
            var id = context.Parse.GetValue(logged)!;
            var job = await GetAsync(context, id, ct);
            if (context.Parse.GetValue(follow))
            {
                return await FollowAsync(context, job, ct);
            }

            if (context.Json)
            {
                context.Console.WriteJson(await context.Remote.GetAsync($"api/jobs/{job.Id}/log?limit=10000", CairnJson.Default.IReadOnlyListJobLogLine, ct),
                    CairnJson.Readable.IReadOnlyListJobLogLine);
                return 0;
            }

            await PrintLogAsync(context, job.Id, 0, ct);
            return 0;
        }));
        command.Subcommands.Add(logs);

        var cancelled = JobArgument();
        var cancel = new Command("cancel", "Cancel a job: a queued one at once, a running one within about a second") { cancelled };
        cancel.SetAction(app.Handler(NeedsServer, async (context, ct) =>
        {
            var job = await context.Remote.SendAsync(HttpMethod.Post, $"api/jobs/{Uri.EscapeDataString(context.Parse.GetValue(cancelled)!)}/cancel", null, CairnJson.Default.Job, ct);
            if (context.Json)
            {
                context.Console.WriteJson(job, CairnJson.Readable.Job);
            }
            else
            {
                context.Console.Out.MarkupLine(job.IsFinished ? $"[yellow]Cancelled[/] job {job.Id}" : $"[yellow]Cancelling[/] job {job.Id}: its worker stops it within a second");
            }

            return 0;
        }));
        command.Subcommands.Add(cancel);
        return command;
    }

    /// <summary>
    /// Sends <paramref name="specPath"/> (and, for a pipeline, every local file its steps read) to the server as a job,
    /// then follows its log until it ends. A file that is missing here is refused before anything is uploaded.
    /// </summary>
    public static async Task<int> SubmitAsync(CommandContext context, JobKind kind, string specPath, IReadOnlyDictionary<string, string> parameters,
        CancellationToken cancellationToken) =>
        (await FollowJobAsync(context, await SendAsync(context, kind, specPath, parameters, cancellationToken), cancellationToken)).Exit;

    /// <summary>Sends a job of a kind that takes arguments alone (evaluate, reproduce), then follows its log until it ends.</summary>
    public static async Task<int> SubmitAsync(CommandContext context, JobKind kind, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken) =>
        (await FollowJobAsync(context, await SendAsync(context, kind, parameters, cancellationToken), cancellationToken)).Exit;

    /// <summary>
    /// Scores a file (sent along) or a dataset version on the server's workers, then downloads what they wrote into
    /// <paramref name="target"/>; nothing is written here unless the job succeeded.
    /// </summary>
    public static async Task<int> PredictAsync(CommandContext context, string model, string? input, string? dataset, string target, CancellationToken cancellationToken)
    {
        var parameters = new Dictionary<string, string> { ["model"] = model, ["output"] = Path.GetFileName(target) };
        if (dataset is not null)
        {
            parameters["dataset"] = dataset;
        }

        var job = input is not null ? await SendAsync(context, JobKind.Predict, input, parameters, cancellationToken)
            : await SendAsync(context, JobKind.Predict, parameters, cancellationToken);
        var (exit, ended) = await FollowJobAsync(context, job, cancellationToken);
        if (exit == 0)
        {
            await DownloadOutputAsync(context, ended, target, cancellationToken);
        }

        return exit;
    }

    private static async Task<Job> SendAsync(CommandContext context, JobKind kind, string specPath, IReadOnlyDictionary<string, string> parameters,
        CancellationToken cancellationToken)
    {
        var (bundle, spec) = await BundleAsync(context, kind, specPath, cancellationToken);
        var query = $"api/jobs?kind={Name(kind)}&spec={Uri.EscapeDataString(spec)}" + Query(parameters);
        using var content = new StreamContent(bundle);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        return Submitted(context, await context.Remote.SendAsync(HttpMethod.Post, query, content, CairnJson.Default.Job, cancellationToken));
    }

    /// <summary>Sends a pipeline and the files it reads to run on a schedule on the server's workers.</summary>
    public static async Task<Core.Pipelines.PipelineSchedule> ScheduleAsync(CommandContext context, string name, string cron, string specPath,
        IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        var (bundle, spec) = await BundleAsync(context, JobKind.Pipeline, specPath, cancellationToken);
        var query = $"api/schedules?name={Uri.EscapeDataString(name)}&cron={Uri.EscapeDataString(cron)}&spec={Uri.EscapeDataString(spec)}" + Query(parameters);
        using var content = new StreamContent(bundle);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        return await context.Remote.SendAsync(HttpMethod.Post, query, content, CairnJson.Default.PipelineSchedule, cancellationToken);
    }

    private static string Query(IReadOnlyDictionary<string, string> parameters) =>
        string.Concat(parameters.Select(p => $"&param={Uri.EscapeDataString($"{p.Key}={p.Value}")}"));

    // The spec (or a prediction's input) and, for a pipeline, every file its steps read, as one zip; a file missing here is refused before anything is sent.
    private static async Task<(MemoryStream Bundle, string Spec)> BundleAsync(CommandContext context, JobKind kind, string specPath, CancellationToken cancellationToken)
    {
        var spec = context.ResolvePath(specPath);
        if (!File.Exists(spec))
        {
            throw CairnException.NotFound(
                $"{kind switch { JobKind.Pipeline => "Pipeline file", JobKind.Sweep => "Sweep spec", JobKind.Predict => "Input file", _ => "Training spec" }} '{specPath}' does not exist.");
        }

        var folder = Path.GetDirectoryName(spec)!;
        var files = new List<string> { Path.GetFileName(spec) };
        if (kind == JobKind.Pipeline)
        {
            var pipeline = PipelineSpec.Parse(await File.ReadAllTextAsync(spec, cancellationToken), spec);
            var read = JobService.PipelineFiles(pipeline);
            var missing = read.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
            if (missing.Count > 0)
            {
                throw CairnException.NotFound($"The pipeline reads {string.Join(", ", missing.Select(m => Path.Combine(folder, m)))}, which does not exist here; nothing was uploaded.");
            }

            files.AddRange(read.Where(f => f != files[0]));
        }

        var bundle = new MemoryStream();
        using (var zip = new ZipArchive(bundle, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in files)
            {
                await zip.CreateEntryFromFileAsync(Path.Combine(folder, file), file, CompressionLevel.Fastest, cancellationToken);
            }
        }

        bundle.Position = 0;
        return (bundle, files[0]);
    }

    // The file a finished job wrote, into the target, whole or not at all.
    private static async Task DownloadOutputAsync(CommandContext context, Job job, string target, CancellationToken cancellationToken)
    {
        var output = job.Outputs.Count == 1 ? job.Outputs[0] : throw CairnException.NotFound($"Job {job.Id} wrote {job.Outputs.Count} files, not one.");
        using var response = await context.Remote.SendRawAsync(HttpMethod.Get, $"api/jobs/{job.Id}/outputs/{Uri.EscapeDataString(output.Path)}", () => null, cancellationToken);
        await FileOutput.WriteAtomicallyAsync(target, await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken);
        if (!context.Json)
        {
            context.Console.Out.MarkupLineInterpolated($"Wrote {target} ({Format.Count(output.SizeBytes)} bytes)");
        }
    }

    private static async Task<Job> SendAsync(CommandContext context, JobKind kind, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        var query = $"api/jobs?kind={Name(kind)}" + Query(parameters);
        return Submitted(context, await context.Remote.SendAsync(HttpMethod.Post, query, null, CairnJson.Default.Job, cancellationToken));
    }

    private static Job Submitted(CommandContext context, Job job)
    {
        if (!context.Json)
        {
            var files = job.Files.Count > 0 ? $", {job.Files.Count} file(s)" : "";
            context.Console.Out.MarkupLineInterpolated(
                $"Submitted job [bold]{job.Id}[/] ({JobService.Describe(job)}{files}) to {context.Remote.Address}; Ctrl+C detaches, the job goes on.");
        }

        return job;
    }

    private static async Task<int> FollowAsync(CommandContext context, Job job, CancellationToken cancellationToken) =>
        (await FollowJobAsync(context, job, cancellationToken)).Exit;

    // Prints the log as it grows until the job ends; its exit code is the same command's run here.
    private static async Task<(int Exit, Job Job)> FollowJobAsync(CommandContext context, Job job, CancellationToken cancellationToken)
    {
        long printed = 0;
        try
        {
            while (true)
            {
                printed = await PrintLogAsync(context, job.Id, printed, cancellationToken);
                if (job.IsFinished)
                {
                    break;
                }

                await Task.Delay(PollInterval, cancellationToken);
                job = await GetAsync(context, job.Id, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            context.Console.Error.WriteLine($"Detached from job {job.Id}; it goes on. Follow it with: cairn jobs logs {job.Id} --follow");
            return (130, job);
        }

        await PrintLogAsync(context, job.Id, printed, CancellationToken.None);
        if (context.Json)
        {
            context.Console.WriteJson(job, CairnJson.Readable.Job);
        }
        else
        {
            context.Console.Out.MarkupLine($"Job {job.Id} {Status(job)}{(job.RunId is { } run ? $": run {run}" : "")}");
        }

        return (job.Status switch
        {
            JobStatus.Succeeded => 0,
            // A pipeline with a failed step, a run that did not reproduce: the check failed, as the same command says here.
            JobStatus.Failed when job.Kind is JobKind.Pipeline or JobKind.Reproduce && job.RunId is not null => CliApp.CheckFailed,
            _ => 1,
        }, job);
    }

    // With --json the log is left out: the output is the job's JSON alone.
    private static async Task<long> PrintLogAsync(CommandContext context, string id, long after, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lines = await context.Remote.GetAsync($"api/jobs/{id}/log?after={after}", CairnJson.Default.IReadOnlyListJobLogLine, cancellationToken);
            foreach (var line in lines)
            {
                if (!context.Json)
                {
                    context.Console.Out.WriteLine(line.Text);
                }

                after = line.Sequence;
            }

            if (lines.Count < 1000)
            {
                return after;
            }
        }
    }

    private static int Show(CommandContext context, Job job)
    {
        if (context.Json)
        {
            context.Console.WriteJson(job, CairnJson.Readable.Job);
            return 0;
        }

        var console = context.Console.Out;
        console.MarkupLineInterpolated($"[bold]Job {job.Id}[/]  {JobService.Describe(job)}");
        console.MarkupLine($"  status     {Status(job)}{(job.CancelRequested && !job.IsFinished ? " (cancelling)" : "")}");
        console.MarkupLineInterpolated($"  by         {job.SubmittedBy}{(job.Token is { } token ? $"/{token}" : "")}, {Format.Time(job.SubmittedAt)}");
        if (job.Worker is { } worker)
        {
            console.MarkupLineInterpolated($"  worker     {worker}{(job.Attempts > 1 ? $" (attempt {job.Attempts})" : "")}");
        }

        if (job is { StartedAt: { } start })
        {
            console.MarkupLineInterpolated($"  started    {Format.Time(start)}{(job.EndedAt is { } end ? $", took {Format.Duration(end - start)}" : "")}");
        }

        foreach (var (label, value) in new[] { ("run", job.RunId), ("result", job.Result), ("error", job.Error) })
        {
            if (value is not null)
            {
                console.MarkupLineInterpolated($"  {label,-10} {value}");
            }
        }

        foreach (var parameter in Job.TakesSpec(job.Kind) ? job.Parameters : new Dictionary<string, string>())
        {
            console.MarkupLineInterpolated($"  param      {parameter.Key}={parameter.Value}");
        }

        foreach (var file in job.Files)
        {
            console.MarkupLineInterpolated($"  file       {file.Path} sha256:{file.ContentHash.Short} ({Format.Count(file.SizeBytes)} bytes)");
        }

        return 0;
    }

    private static Task<Job> GetAsync(CommandContext context, string id, CancellationToken cancellationToken) =>
        context.Remote.GetAsync($"api/jobs/{Uri.EscapeDataString(id)}", CairnJson.Default.Job, cancellationToken);

    private static Task<int> NeedsServer(CommandContext context, CancellationToken cancellationToken) =>
        throw CairnException.Invalid("Jobs live on a server: log in to one (cairn login URL) or give --server URL.");

    /// <summary>Refuses <c>--remote</c> where no server is chosen.</summary>
    public static void RefuseRemoteLocally(CommandContext context, Option<bool> remote)
    {
        if (context.Parse.GetValue(remote))
        {
            throw CairnException.Invalid("--remote runs the work on a server's workers, and no server is chosen: log in to one (cairn login URL) or give --server URL.");
        }
    }

    /// <summary>Refuses to run heavy work here silently when a server is chosen: say --remote, or --home for a local store.</summary>
    public static void RequireRemote(CommandContext context, Option<bool> remote, string command)
    {
        if (!context.Parse.GetValue(remote))
        {
            throw CairnException.Invalid(
                $"'{command}' through {context.Remote.Address} runs on the server's workers: add --remote. To run it on this machine, give --home DIR for a local store.");
        }
    }

    private static Argument<string> JobArgument() => new("job") { Description = "The job's id" };

    private static string Status(Job job) => job.Status switch
    {
        JobStatus.Succeeded => "[green]succeeded[/]",
        JobStatus.Failed => "[red]failed[/]",
        JobStatus.Cancelled => "[yellow]cancelled[/]",
        JobStatus.Running => "[blue]running[/]",
        _ => "queued",
    };

    private static string Name<T>(T value) where T : Enum => value.ToString().ToLowerInvariant();
}

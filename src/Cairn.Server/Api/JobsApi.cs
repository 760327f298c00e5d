using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Api;

/// <summary>Jobs for the server's workers: what <c>cairn train|sweep|pipelines run --remote</c> and <c>cairn jobs</c> call.</summary>
internal static class JobsApi
{
    public static void MapJobsApi(this IEndpointRouteBuilder app)
    {
        var schedules = app.MapGroup("/api/schedules").WithTags("Jobs");
        schedules.MapGet("/", (PipelineSchedules service, CancellationToken ct) => service.ListAsync(ct)).WithSummary("Pipeline schedules with their next and previous runs.");
        schedules.MapPost("/", async (string? name, string? cron, string? spec, HttpContext http, JobService service, CairnServerOptions options) =>
        {
            var parameters = Parameters(http);
            return await SpooledAsync(http, options, async bundle =>
            {
                var added = await service.ScheduleAsync(name ?? "", cron ?? "", spec ?? "", parameters, bundle, options.MaxUploadBytes, http.RequestAborted);
                return Results.Created($"/api/schedules/{added.Name}", added);
            });
        }).WithSummary("Schedules a pipeline sent with its files (?name=, ?cron=, ?spec=PATH inside the application/zip body, ?param=NAME=VALUE): each firing runs as a job on a worker.");
        schedules.MapDelete("/{name}", async (string name, JobService service, CancellationToken ct) =>
        {
            await service.UnscheduleAsync(name, ct);
            return Results.NoContent();
        }).WithSummary("Removes a schedule.");

        var jobs = app.MapGroup("/api/jobs").WithTags("Jobs");
        jobs.MapPost("/", async (string? kind, string? spec, HttpContext http, JobService service, CairnServerOptions options) =>
        {
            var jobKind = Enum.TryParse<JobKind>(kind, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(kind, out _) ? parsed
                : throw CairnException.Invalid($"kind '{kind}' is not a job kind; use train, sweep, pipeline, evaluate or reproduce.");
            var parameters = Parameters(http);
            // A job without a spec is its parameters alone (evaluate, reproduce, predict a dataset version); one with a spec brings files.
            if (string.IsNullOrEmpty(spec))
            {
                var queued = await service.SubmitAsync(jobKind, parameters, http.RequestAborted);
                return Results.Created($"/api/jobs/{queued.Id}", queued);
            }

            return await SpooledAsync(http, options, async bundle =>
            {
                var job = await service.SubmitAsync(jobKind, spec, parameters, bundle, options.MaxUploadBytes, http.RequestAborted);
                return Results.Created($"/api/jobs/{job.Id}", job);
            });
        }).WithSummary("Queues a job: ?kind=train|sweep|pipeline with ?spec=PATH inside the application/zip body of its files (and ?param=NAME=VALUE for a pipeline), or ?kind=evaluate|reproduce with its ?param=NAME=VALUE arguments alone.");
        jobs.MapGet("/", (int? limit, JobService service, CancellationToken ct) => service.ListAsync(limit ?? 20, ct))
            .WithSummary("The caller's newest jobs (everyone's for an administrator), newest first.");
        jobs.MapGet("/{id}", (string id, JobService service, CancellationToken ct) => service.GetAsync(id, ct)).WithSummary("A job and where it stands.");
        jobs.MapGet("/{id}/log", (string id, long? after, int? limit, JobService service, CancellationToken ct) =>
            service.LogAsync(id, after ?? 0, limit ?? 1000, ct)).WithSummary("A job's log lines after line ?after=N (at most ?limit=, default 1000).");
        jobs.MapGet("/{id}/outputs/{name}", async (string id, string name, JobService service, CancellationToken ct) =>
        {
            var (file, content) = await service.OpenOutputAsync(id, name, ct);
            return Results.Stream(content, "application/octet-stream", fileDownloadName: file.Path);
        }).WithSummary("Downloads a file a job wrote (a prediction's output); its content is verified against its hash as it is sent.");
        jobs.MapPost("/{id}/cancel", (string id, JobService service, CancellationToken ct) => service.CancelAsync(id, ct))
            .WithSummary("Cancels a job: a queued one at once, a running one within about a second.");
    }

    private static Dictionary<string, string> Parameters(HttpContext http) =>
        http.Request.Query["param"].OfType<string>().Select(p => p.Split('=', 2)).ToDictionary(
            p => p.Length == 2 && p[0].Length > 0 ? p[0] : throw CairnException.Invalid($"param '{string.Join('=', p)}' is not NAME=VALUE."),
            p => p[1], StringComparer.Ordinal);

    // The zip is spooled to a file: its directory sits at its end, and it is checked whole before anything is stored.
    private static async Task<IResult> SpooledAsync(HttpContext http, CairnServerOptions options, Func<Stream, Task<IResult>> use)
    {
        Uploads.Limit(http, options.MaxUploadBytes, "job's files", "--max-upload-mib");
        var spooled = SpoolFiles.NewTempPath(".zip");
        try
        {
            await using var file = new FileStream(spooled, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 128 * 1024, FileOptions.Asynchronous);
            await http.Request.Body.CopyToAsync(file, http.RequestAborted);
            file.Position = 0;
            return await use(file);
        }
        finally
        {
            File.Delete(spooled);
        }
    }
}

using System.IO.Compression;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.Server.Api;

/// <summary>Cairn's datasets API under <c>/api/datasets</c>: versions by content, their lineage and schema, uploads and verified downloads.</summary>
internal static class DatasetsApi
{
    public static void MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var datasets = app.MapGroup("/api/datasets").WithTags("Datasets");
        datasets.MapGet("/", (DatasetService service, CancellationToken ct) => service.ListAsync(ct))
            .WithSummary("Every dataset with its latest version and version count.");
        datasets.MapGet("/{name}/versions", (string name, DatasetService service, CancellationToken ct) =>
            service.ListVersionsAsync(Names.Validate(name, "dataset"), ct)).WithSummary("A dataset's versions, newest first, with lineage, messages and tags.");
        datasets.MapGet("/{name}/versions/{version:int}", (string name, int version, DatasetService service, CancellationToken ct) =>
            service.GetAsync(new DatasetRef(Names.Validate(name, "dataset"), version), ct)).WithSummary("One version with its inferred schema.");
        datasets.MapGet("/{name}/versions/{version:int}/file", async (string name, int version, DatasetService service, CancellationToken ct) =>
        {
            var (found, content) = await service.OpenAsync(new DatasetRef(Names.Validate(name, "dataset"), version), ct);
            return Results.Stream(content, found.Format == DatasetFormat.Parquet ? "application/vnd.apache.parquet" : "text/csv", fileDownloadName: Path.GetFileName(found.Source));
        }).WithSummary("Downloads a version's file; its content is verified against its hash as it is sent.");
        datasets.MapGet("/{name}/versions/{version:int}/profile", async (string name, int version, DatasetAnalysis service, CancellationToken ct) =>
            (await service.ProfileAsync(new DatasetRef(Names.Validate(name, "dataset"), version), ct)).Profile)
            .WithSummary("The version's profile (computed on first request, then stored): per column counts, distinct, quantiles, histogram, top values and sketches.");
        datasets.MapGet("/diff", (string from, string to, DatasetAnalysis service, CancellationToken ct) =>
            service.DiffAsync(DatasetRef.Parse(from), DatasetRef.Parse(to), ct))
            .WithSummary("Schema changes, row counts and per-column drift from ?from=NAME@VERSION (the reference) to ?to=NAME@VERSION, of any two datasets.");
        datasets.MapGet("/{name}/versions/{version:int}/contract", async (string name, int version, DatasetAnalysis service, CancellationToken ct) =>
            Results.Text((await service.InferContractAsync(new DatasetRef(Names.Validate(name, "dataset"), version), ct)).ToYaml(), "application/yaml"))
            .WithSummary("An editable YAML data contract the version passes as it is.");
        datasets.MapGet("/{name}/versions/{version:int}/split", async (string name, int version, string? method, double? test, double? validation, string? column,
            int? seed, DatasetAnalysis service, CancellationToken ct) =>
        {
            var split = new DataSplit(DataSplit.ParseMethod(method ?? "random"), test ?? 0.2, validation ?? 0, column);
            var (_, counts, _) = await service.SplitAsync(new DatasetRef(Names.Validate(name, "dataset"), version), split, seed ?? 42, null, ct);
            return counts.ToDictionary(c => c.Key.ToString().ToLowerInvariant(), c => c.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }).WithSummary("How a deterministic split (?method=random|hash|time, ?test=, ?validation=, ?column=, ?seed=) assigns the version's rows: counts per part.");
        datasets.MapGet("/{name}/versions/{version:int}/split/files", async (string name, int version, string? method, double? test, double? validation,
            string? column, int? seed, HttpContext http, DatasetAnalysis service) =>
        {
            var split = new DataSplit(DataSplit.ParseMethod(method ?? "random"), test ?? 0.2, validation ?? 0, column);
            var folder = Directory.CreateTempSubdirectory("cairn-split-");
            try
            {
                var parts = Path.Combine(folder.FullName, "parts");
                var (_, _, files) = await service.SplitAsync(new DatasetRef(Names.Validate(name, "dataset"), version), split, seed ?? 42, parts, http.RequestAborted);
                var zipped = Path.Combine(folder.FullName, "parts.zip");
                await using (var zip = new ZipArchive(File.Create(zipped), ZipArchiveMode.Create))
                {
                    foreach (var file in files)
                    {
                        await zip.CreateEntryFromFileAsync(file, Path.GetFileName(file), CompressionLevel.Fastest, http.RequestAborted);
                    }
                }

                http.Response.ContentType = "application/zip";
                await http.Response.SendFileAsync(zipped, http.RequestAborted);
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        }).WithSummary("The same split's parts (train.csv, validation.csv, test.csv; the empty ones left out) as one zip.");
        datasets.MapGet("/{name}/diff", (string name, int from, int to, DatasetAnalysis service, CancellationToken ct) =>
            service.DiffAsync(new DatasetRef(Names.Validate(name, "dataset"), from), new DatasetRef(name, to), ct))
            .WithSummary("Schema changes, row counts and per-column drift from version ?from= (the reference) to ?to=.");
        datasets.MapGet("/{name}/versions/{version:int}/validations", (string name, int version, DatasetAnalysis service, CancellationToken ct) =>
            service.ListValidationsAsync(new DatasetRef(Names.Validate(name, "dataset"), version), ct))
            .WithSummary("The version's validations against contracts, newest first.");
        datasets.MapPost("/{name}/versions/{version:int}/validations", async (string name, int version, HttpRequest request, DatasetAnalysis service, CancellationToken ct) =>
        {
            using var body = new StreamReader(request.Body);
            var contract = await body.ReadToEndAsync(ct);
            return await service.ValidateAsync(new DatasetRef(Names.Validate(name, "dataset"), version), contract, ct);
        }).WithSummary("Validates the version against the YAML contract in the body, stores and returns the result (every violation; passed is false on any).");
        datasets.MapPost("/{name}/versions", async (string name, string? file, string? message, HttpContext http, DatasetService service,
            CairnServerOptions options) =>
        {
            // Everything that can be checked without the body is checked before a byte of it is read.
            Names.Validate(name, "dataset");
            var tags = http.Request.Query["tag"].OfType<string>().Select(t => t.Split('=', 2)).ToDictionary(
                t => t.Length == 2 && t[0].Length > 0 ? t[0] : throw CairnException.Invalid($"tag '{string.Join('=', t)}' is not KEY=VALUE."),
                t => t[1], StringComparer.Ordinal);
            var source = string.IsNullOrEmpty(file) ? $"{name}.csv" : Path.GetFileName(file);
            Uploads.Limit(http, options.MaxUploadBytes, "dataset upload", "--max-upload-mib");
            await service.DemandAddAsync(name, http.RequestAborted);

            // The body is spooled to a file first: adding parses it and stores it, and nothing is recorded unless all of it parses.
            // The spooled copy keeps the upload's kind (?file=x.parquet), which decides how it is read.
            var spooled = SpoolFiles.NewTempPath(TableFiles.IsParquet(file ?? "") ? ".parquet" : ".csv");
            try
            {
                await using (var output = new FileStream(spooled, FileMode.CreateNew, FileAccess.Write, FileShare.None, 128 * 1024, FileOptions.Asynchronous))
                {
                    await http.Request.Body.CopyToAsync(output, http.RequestAborted);
                }

                var (version, created) = await service.AddAsync(spooled, name, message, tags, source, http.RequestAborted);
                return created ? Results.Created($"/api/datasets/{name}/versions/{version.Version}", version) : Results.Ok(version);
            }
            finally
            {
                File.Delete(spooled);
            }
        }).WithSummary("Adds the CSV (or, with ?file=NAME.parquet, the Parquet file) in the body as a new version (?file= names it, ?message=, ?tag=k=v); identical content answers 200 with the existing version.");
    }
}

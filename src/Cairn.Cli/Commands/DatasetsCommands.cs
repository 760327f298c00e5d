using System.CommandLine;
using Cairn.Application;
using Cairn.Core;
using Cairn.Core.Data;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn datasets add | list | show | log | get | profile | diff | split | contract infer | validate</c>.</summary>
internal static class DatasetsCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("datasets", "Version tables by content and infer their schema");

        var file = new Argument<string>("file") { Description = "A CSV file (UTF-8, header row), or a folder of CSV files with the same header" };
        var name = new Option<string>("--name") { Description = "The dataset to add a version to", Required = true };
        var message = new Option<string?>("--message", "-m") { Description = "What changed in this version" };
        var tags = new Option<string[]>("--tag") { Description = "A tag KEY=VALUE (repeatable)", AllowMultipleArgumentsPerToken = false };
        var add = new Command("add", "Add a CSV file or a folder of them as a new dataset version (identical content returns the existing version)") { file, name, message, tags };
        add.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (version, created) = await context.Get<DatasetService>().AddAsync(context.ResolvePath(context.Parse.GetValue(file)!), context.Parse.GetValue(name)!,
                    context.Parse.GetValue(message), ParseTags(context.Parse.GetValue(tags) ?? []), ct);
                return WriteAdded(context, version, created);
            },
            async (context, ct) =>
            {
                var (version, created) = await UploadAsync(context, context.ResolvePath(context.Parse.GetValue(file)!), context.Parse.GetValue(name)!,
                    context.Parse.GetValue(message), ParseTags(context.Parse.GetValue(tags) ?? []), ct);
                return WriteAdded(context, version, created);
            }));
        command.Subcommands.Add(add);

        var list = new Command("list", "List datasets");
        list.SetAction(app.Handler(
            async (context, ct) => WriteList(context, await context.Get<DatasetService>().ListAsync(ct)),
            async (context, ct) => WriteList(context, await context.Remote.GetAsync("api/datasets", CairnJson.Default.IReadOnlyListDatasetSummary, ct))));
        command.Subcommands.Add(list);

        var reference = new Argument<string>("dataset") { Description = "NAME (the latest version) or NAME@VERSION" };
        var show = new Command("show", "Show a dataset version and its schema") { reference };
        show.SetAction(app.Handler(
            async (context, ct) =>
            {
                var datasets = context.Get<DatasetService>();
                var version = await datasets.GetAsync(DatasetRef.Parse(context.Parse.GetValue(reference)!), ct);
                var versions = await datasets.ListVersionsAsync(version.Name, ct);
                var manifest = version.Format == DatasetFormat.Folder ? await Task.Run(() => datasets.ReadManifest(version), ct) : null;
                return WriteShown(context, version, versions.Count, manifest);
            },
            async (context, ct) =>
            {
                var (version, versions) = await RemoteVersionAsync(context, DatasetRef.Parse(context.Parse.GetValue(reference)!), ct);
                return WriteShown(context, version, versions, null);
            }));
        command.Subcommands.Add(show);

        var logged = new Argument<string>("name") { Description = "The dataset" };
        var log = new Command("log", "Show a dataset's versions, newest first, with their lineage, messages and tags") { logged };
        log.SetAction(app.Handler(
            async (context, ct) => WriteLog(context, await context.Get<DatasetService>().ListVersionsAsync(Names.Validate(context.Parse.GetValue(logged)!, "dataset"), ct)),
            async (context, ct) => WriteLog(context, await RemoteVersionsAsync(context, Names.Validate(context.Parse.GetValue(logged)!, "dataset"), ct))));
        command.Subcommands.Add(log);

        var restored = new Argument<string>("dataset") { Description = "NAME (the latest version) or NAME@VERSION" };
        var output = new Option<string>("--output", "-o") { Description = "The folder to restore the file into", DefaultValueFactory = _ => "." };
        var get = new Command("get", "Restore a version's file into a folder, verified against its content hash") { restored, output };
        get.SetAction(app.Handler(
            async (context, ct) => WriteRestored(context, await context.Get<DatasetService>().RestoreAsync(DatasetRef.Parse(context.Parse.GetValue(restored)!),
                context.ResolvePath(context.Parse.GetValue(output)!), ct)),
            async (context, ct) => WriteRestored(context, await DownloadAsync(context, DatasetRef.Parse(context.Parse.GetValue(restored)!),
                context.ResolvePath(context.Parse.GetValue(output)!), ct))));
        command.Subcommands.Add(get);


        var profiled = new Argument<string>("dataset") { Description = "NAME (the latest version) or NAME@VERSION" };
        var profile = new Command("profile", "Profile a version (computed once, then stored with it): counts, missing, distinct, quantiles, histogram, top values") { profiled };
        profile.SetAction(app.Handler(
            async (context, ct) =>
            {
                var (version, computed) = await context.Get<DatasetAnalysis>().ProfileAsync(DatasetRef.Parse(context.Parse.GetValue(profiled)!), ct);
                return WriteProfile(context, version, computed);
            },
            async (context, ct) =>
            {
                var (version, _) = await RemoteVersionAsync(context, DatasetRef.Parse(context.Parse.GetValue(profiled)!), ct);
                return WriteProfile(context, version, await context.Remote.GetAsync(
                    $"api/datasets/{Uri.EscapeDataString(version.Name)}/versions/{version.Version}/profile", CairnJson.Default.DatasetProfile, ct));
            }));
        command.Subcommands.Add(profile);

        var from = new Argument<string>("reference") { Description = "The reference version, NAME@VERSION" };
        var to = new Argument<string>("current") { Description = "The version to compare with it" };
        var failOnDrift = new Option<bool>("--fail-on-drift") { Description = $"Exit with code {CliApp.CheckFailed} when the dataset drifted" };
        var diff = new Command("diff", "Compare two versions: schema changes, row counts and a per-column drift table") { from, to, failOnDrift };
        diff.SetAction(app.Handler(
            async (context, ct) => WriteDiff(context, await context.Get<DatasetAnalysis>().DiffAsync(
                DatasetRef.Parse(context.Parse.GetValue(from)!), DatasetRef.Parse(context.Parse.GetValue(to)!), ct), context.Parse.GetValue(failOnDrift)),
            async (context, ct) => WriteDiff(context, await context.Remote.GetAsync(
                $"api/datasets/diff?from={Uri.EscapeDataString(context.Parse.GetValue(from)!)}&to={Uri.EscapeDataString(context.Parse.GetValue(to)!)}",
                CairnJson.Default.DatasetDiff, ct), context.Parse.GetValue(failOnDrift))));
        command.Subcommands.Add(diff);

        var splitted = new Argument<string>("dataset") { Description = "NAME (the latest version) or NAME@VERSION" };
        var method = new Option<string>("--method") { Description = "random (seeded), hash (by --column, stable across versions) or time (by --column)", DefaultValueFactory = _ => "random" };
        var splitColumn = new Option<string?>("--column") { Description = "The id column (hash) or timestamp column (time)" };
        var testShare = new Option<double>("--test") { Description = "The share of rows for test", DefaultValueFactory = _ => 0.2 };
        var validationShare = new Option<double>("--validation") { Description = "The share of rows for validation", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "The seed (random and hash methods)", DefaultValueFactory = _ => 42 };
        var splitOutput = new Option<string?>("--output", "-o") { Description = "Write train.csv, validation.csv and test.csv into this folder" };
        var split = new Command("split", "Split a version into train, validation and test deterministically; print the counts or write the parts")
        {
            splitted, method, splitColumn, testShare, validationShare, seed, splitOutput,
        };
        split.SetAction(app.Handler(
            async (context, ct) =>
            {
                var output = context.Parse.GetValue(splitOutput) is { } folder ? context.ResolvePath(folder) : null;
                var settings = new DataSplit(DataSplit.ParseMethod(context.Parse.GetValue(method)), context.Parse.GetValue(testShare), context.Parse.GetValue(validationShare),
                    context.Parse.GetValue(splitColumn));
                var (version, counts, files) = await context.Get<DatasetAnalysis>().SplitAsync(DatasetRef.Parse(context.Parse.GetValue(splitted)!), settings,
                    context.Parse.GetValue(seed), output, ct);
                return WriteSplit(context, version.Reference, settings.Method, counts, files);
            },
            async (context, ct) =>
            {
                var settings = DataSplit.ParseMethod(context.Parse.GetValue(method));
                var (version, _) = await RemoteVersionAsync(context, DatasetRef.Parse(context.Parse.GetValue(splitted)!), ct);
                var query = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"api/datasets/{Uri.EscapeDataString(version.Name)}/versions/{version.Version}/split?method={settings.ToString().ToLowerInvariant()}&test={context.Parse.GetValue(testShare)}&validation={context.Parse.GetValue(validationShare)}&seed={context.Parse.GetValue(seed)}")
                    + (context.Parse.GetValue(splitColumn) is { } column ? $"&column={Uri.EscapeDataString(column)}" : "");
                var counts = (await context.Remote.GetAsync(query, CairnJson.Default.DictionaryStringString, ct))
                    .ToDictionary(c => Enum.Parse<SplitPart>(c.Key, ignoreCase: true), c => long.Parse(c.Value, System.Globalization.CultureInfo.InvariantCulture));
                var files = context.Parse.GetValue(splitOutput) is { } folder
                    ? await DownloadPartsAsync(context, query.Replace("/split?", "/split/files?", StringComparison.Ordinal), context.ResolvePath(folder), ct)
                    : [];
                return WriteSplit(context, version.Reference, settings, counts, files);
            }));
        command.Subcommands.Add(split);

        var contracted = new Argument<string>("dataset") { Description = "NAME (the latest version) or NAME@VERSION" };
        var contractOutput = new Option<string?>("--output", "-o") { Description = "Write the contract to this file (default: print it)" };
        var infer = new Command("infer", "Write an editable YAML contract that the version passes as it is") { contracted, contractOutput };
        infer.SetAction(app.Handler(
            async (context, ct) => await WriteContractAsync(context,
                (await context.Get<DatasetAnalysis>().InferContractAsync(DatasetRef.Parse(context.Parse.GetValue(contracted)!), ct)).ToYaml(),
                context.Parse.GetValue(contracted)!, context.Parse.GetValue(contractOutput), ct),
            async (context, ct) =>
            {
                var (version, _) = await RemoteVersionAsync(context, DatasetRef.Parse(context.Parse.GetValue(contracted)!), ct);
                using var response = await context.Remote.SendRawAsync(HttpMethod.Get,
                    $"api/datasets/{Uri.EscapeDataString(version.Name)}/versions/{version.Version}/contract", () => null, ct);
                return await WriteContractAsync(context, await response.Content.ReadAsStringAsync(ct), context.Parse.GetValue(contracted)!,
                    context.Parse.GetValue(contractOutput), ct);
            }));
        command.Subcommands.Add(new Command("contract", "Data contracts: the rules a dataset's versions must follow") { infer });

        var validated = new Argument<string>("dataset") { Description = "NAME (the latest version) or NAME@VERSION" };
        var contractFile = new Option<string>("--contract") { Description = "The YAML contract to check against", Required = true };
        var validate = new Command("validate", $"Check a version against a contract, report every violation, store the result; exit code {CliApp.CheckFailed} on failure")
        {
            validated, contractFile,
        };
        validate.SetAction(app.Handler(
            async (context, ct) =>
            {
                var contract = await ReadContractAsync(context, context.Parse.GetValue(validated)!, context.Parse.GetValue(contractFile)!, ct);
                return WriteValidation(context, await context.Get<DatasetAnalysis>().ValidateAsync(DatasetRef.Parse(context.Parse.GetValue(validated)!), contract, ct),
                    context.Parse.GetValue(contractFile)!);
            },
            async (context, ct) =>
            {
                var contract = await ReadContractAsync(context, context.Parse.GetValue(validated)!, context.Parse.GetValue(contractFile)!, ct);
                var (version, _) = await RemoteVersionAsync(context, DatasetRef.Parse(context.Parse.GetValue(validated)!), ct);
                using var body = new StringContent(contract, System.Text.Encoding.UTF8, "application/yaml");
                return WriteValidation(context, await context.Remote.SendAsync(HttpMethod.Post,
                    $"api/datasets/{Uri.EscapeDataString(version.Name)}/versions/{version.Version}/validations", body, CairnJson.Default.ValidationReport, ct),
                    context.Parse.GetValue(contractFile)!);
            }));
        command.Subcommands.Add(validate);
        return command;
    }

    // The server's parts come as one zip; each lands in the folder whole, and none is written over an existing file.
    private static async Task<IReadOnlyList<string>> DownloadPartsAsync(CommandContext context, string query, string folder, CancellationToken cancellationToken)
    {
        using var response = await context.Remote.SendRawAsync(HttpMethod.Get, query, () => null, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var zip = new System.IO.Compression.ZipArchive(body, System.IO.Compression.ZipArchiveMode.Read);
        var targets = zip.Entries.Select(e => (Entry: e, Path: Path.Combine(folder, Path.GetFileName(e.FullName)))).ToList();
        if (targets.FirstOrDefault(t => File.Exists(t.Path)) is { Path: { } taken })
        {
            throw new CairnException(ErrorCode.Conflict, $"'{taken}' already exists; choose another folder or remove it.");
        }

        Directory.CreateDirectory(folder);
        foreach (var (entry, path) in targets)
        {
            await using var content = await entry.OpenAsync(cancellationToken);
            await FileOutput.WriteAtomicallyAsync(path, content, cancellationToken);
        }

        return [.. targets.Select(t => t.Path)];
    }

    private static int WriteSplit(CommandContext context, string reference, SplitMethod parsed, IReadOnlyDictionary<SplitPart, long> counts, IReadOnlyList<string> files)
    {
        var result = counts.ToDictionary(c => c.Key.ToString().ToLowerInvariant(), c => c.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (var i = 0; i < files.Count; i++)
        {
            result[$"file.{Path.GetFileNameWithoutExtension(files[i])}"] = files[i];
        }

        if (context.Json)
        {
            context.Console.WriteJson(result, CairnJson.Readable.DictionaryStringString);
            return 0;
        }

        context.Console.Out.MarkupLineInterpolated(
            $"{reference} split by {parsed.ToString().ToLowerInvariant()}: train {Format.Count(counts[SplitPart.Train])}, validation {Format.Count(counts[SplitPart.Validation])}, test {Format.Count(counts[SplitPart.Test])}, not placed {Format.Count(counts[SplitPart.Excluded])}");
        foreach (var file in files)
        {
            context.Console.Out.MarkupLineInterpolated($"  [green]Wrote[/] {file}");
        }

        return 0;
    }

    private static int WriteProfile(CommandContext context, DatasetVersion version, Cairn.Core.Statistics.DatasetProfile profile)
    {
        if (context.Json)
        {
            context.Console.WriteJson(profile, CairnJson.Readable.DatasetProfile);
            return 0;
        }

        context.Console.Out.MarkupLineInterpolated($"[bold]{version.Reference}[/]: {Format.Count(profile.Rows)} rows");
        var table = new Table().AddColumns("column", "type", "missing", "distinct", "min", "median", "max", "mean", "std", "top values");
        foreach (var c in profile.Columns)
        {
            var rows = Math.Max(1, c.Count + c.Missing);
            table.AddRow(Markup.Escape(c.Name), c.Type.ToString().ToLowerInvariant(),
                $"{Format.Count(c.Missing)} ({(double)c.Missing / rows:P1})",
                (c.DistinctIsExact ? "" : "~") + Format.Count(c.Distinct),
                Value(c, c.Min), Value(c, c.Quantiles?.FirstOrDefault(q => q.Q == 0.5)?.Value), Value(c, c.Max), Value(c, c.Mean),
                c.Std is { } std ? Format.Number(std) : "",
                Markup.Escape(string.Join(", ", c.TopValues.Take(3).Select(v => $"{v.Value} ({(double)v.Count / rows:P0})"))));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static string Value(Cairn.Core.Statistics.ColumnProfile column, double? value) => value is not { } v
        ? ""
        : column.Type == ColumnType.DateTime
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(v * 1000)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)
            : Format.Number(v);

    private static int WriteDiff(CommandContext context, DatasetDiff diff, bool failOnDrift)
    {
        var exit = failOnDrift && diff.Drift.Drifted ? CliApp.CheckFailed : 0;
        if (context.Json)
        {
            context.Console.WriteJson(diff, CairnJson.Readable.DatasetDiff);
            return exit;
        }

        var console = context.Console.Out;
        console.MarkupLineInterpolated($"[bold]{diff.From}[/] → [bold]{diff.To}[/]: rows {Format.Count(diff.FromRows)} → {Format.Count(diff.ToRows)} ({diff.ToRows - diff.FromRows:+#,0;-#,0;0})");
        if (diff.Schema.Count == 0)
        {
            console.MarkupLine("Schema: unchanged");
        }
        else
        {
            var changes = new Table().AddColumns("column", "change", "before", "after");
            foreach (var c in diff.Schema)
            {
                changes.AddRow(Markup.Escape(c.Column), c.Change, Markup.Escape(c.Before ?? "-"), Markup.Escape(c.After ?? "-"));
            }

            console.Write(changes);
        }

        var drift = new Table().AddColumns("column", "method", "score", "threshold", "drift");
        foreach (var c in diff.Drift.Columns)
        {
            var method = c.Method.ToString() + (c.Exact ? "" : " (sketch)");
            drift.AddRow(Markup.Escape(c.Column), method, Format.Number(c.Score) + (c.ErrorBound is { } e ? $" ±{Format.Number(e)}" : ""), Format.Number(c.Threshold),
                c.Drifted ? "[red]yes[/]" : "[green]no[/]");
        }

        foreach (var (column, reason) in diff.Drift.Skipped)
        {
            drift.AddRow(Markup.Escape(column), "-", "-", "-", Markup.Escape(reason));
        }

        console.Write(drift);
        console.MarkupLine(diff.Drift.Drifted
            ? $"[red]Dataset drift[/]: {diff.Drift.DriftedShare:P0} of columns drifted (threshold {Cairn.Core.Statistics.DriftDetector.DatasetDriftShare:P0})."
            : $"[green]No dataset drift[/]: {diff.Drift.DriftedShare:P0} of columns drifted (threshold {Cairn.Core.Statistics.DriftDetector.DatasetDriftShare:P0}).");
        return exit;
    }

    private static async Task<int> WriteContractAsync(CommandContext context, string yaml, string reference, string? output, CancellationToken cancellationToken)
    {
        if (output is null)
        {
            context.Console.RawOut.Write(yaml);
            context.Console.RawOut.Flush();
            return 0;
        }

        var path = context.ResolvePath(output);
        if (File.Exists(path))
        {
            throw new CairnException(ErrorCode.Conflict, $"'{path}' already exists; remove it or choose another file.");
        }

        await File.WriteAllTextAsync(path, yaml, cancellationToken);
        context.Console.Out.MarkupLineInterpolated($"[green]Wrote[/] {path}: edit it, then run: cairn datasets validate {reference} --contract {output}");
        return 0;
    }

    private static async Task<string> ReadContractAsync(CommandContext context, string reference, string contractFile, CancellationToken cancellationToken)
    {
        var path = context.ResolvePath(contractFile);
        return File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken)
            : throw CairnException.NotFound($"Contract file '{path}' does not exist. Write one with: cairn datasets contract infer {reference} -o {contractFile}");
    }

    private static int WriteValidation(CommandContext context, ValidationReport report, string contractFile)
    {
        var exit = report.Passed ? 0 : CliApp.CheckFailed;
        if (context.Json)
        {
            context.Console.WriteJson(report, CairnJson.Readable.ValidationReport);
            return exit;
        }

        var console = context.Console.Out;
        if (report.Passed)
        {
            console.MarkupLineInterpolated($"[green]Passed[/]: {report.Dataset}@{report.Version} ({Format.Count(report.Rows)} rows) meets every rule of {contractFile}.");
            return exit;
        }

        var table = new Table().AddColumns("column", "rule", "count", "problem", "examples");
        foreach (var v in report.Violations)
        {
            table.AddRow(Markup.Escape(v.Column ?? "(table)"), v.Rule, Format.Count(v.Count), Markup.Escape(v.Message), Markup.Escape(string.Join("; ", v.Examples.Take(3))));
        }

        console.MarkupLineInterpolated($"[red]Failed[/]: {report.Dataset}@{report.Version} broke {report.Violations.Count} rule(s) of {contractFile}:");
        console.Write(table);
        return exit;
    }

    private static Dictionary<string, string> ParseTags(string[] tags)
    {
        var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            var equals = tag.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw CairnException.Invalid($"--tag '{tag}' is not KEY=VALUE.");
            }

            parsed[tag[..equals]] = tag[(equals + 1)..];
        }

        return parsed;
    }

    private static int WriteRestored(CommandContext context, string path)
    {
        if (context.Json)
        {
            context.Console.WriteJson(new Dictionary<string, string> { ["path"] = path }, CairnJson.Readable.DictionaryStringString);
        }
        else
        {
            context.Console.Out.MarkupLineInterpolated($"[green]Restored[/] {path}");
        }

        return 0;
    }

    private static async Task<IReadOnlyList<DatasetVersion>> RemoteVersionsAsync(CommandContext context, string name, CancellationToken cancellationToken) =>
        await context.Remote.GetAsync($"api/datasets/{Uri.EscapeDataString(name)}/versions", CairnJson.Default.IReadOnlyListDatasetVersion, cancellationToken);

    // A version and how many the dataset has; NAME alone means its newest.
    private static async Task<(DatasetVersion Version, int Versions)> RemoteVersionAsync(CommandContext context, DatasetRef reference, CancellationToken cancellationToken)
    {
        var versions = await RemoteVersionsAsync(context, Names.Validate(reference.Name, "dataset"), cancellationToken);
        var version = reference.Version is { } wanted
            ? await context.Remote.GetAsync($"api/datasets/{Uri.EscapeDataString(reference.Name)}/versions/{wanted}", CairnJson.Default.DatasetVersion, cancellationToken)
            : versions.Count > 0 ? versions[0] : throw CairnException.NotFound($"Dataset '{reference.Name}' has no versions.");
        return (version, versions.Count);
    }

    // The file is streamed to the server, which parses and stores it; a folder is not sent (its files would need a manifest upload).
    private static async Task<(DatasetVersion Version, bool Created)> UploadAsync(CommandContext context, string path, string name, string? message,
        Dictionary<string, string> tags, CancellationToken cancellationToken)
    {
        Names.Validate(name, "dataset");
        if (Directory.Exists(path))
        {
            throw CairnException.Invalid($"'{path}' is a folder; through a server, add its files one at a time or run 'cairn datasets add' where the store is.");
        }

        if (!File.Exists(path))
        {
            throw CairnException.NotFound($"File '{path}' does not exist.");
        }

        var query = $"api/datasets/{Uri.EscapeDataString(name)}/versions?file={Uri.EscapeDataString(Path.GetFileName(path))}"
            + (message is null ? "" : $"&message={Uri.EscapeDataString(message)}")
            + string.Concat(tags.Select(t => $"&tag={Uri.EscapeDataString($"{t.Key}={t.Value}")}"));
        using var response = await context.Remote.SendRawAsync(HttpMethod.Post, query, () => new StreamContent(File.OpenRead(path))
        {
            Headers = { ContentType = new(TableFiles.IsParquet(path) ? "application/vnd.apache.parquet" : "text/csv") },
        }, cancellationToken);
        var version = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync(response.Content, CairnJson.Default.DatasetVersion, cancellationToken)
            ?? throw new CairnException(ErrorCode.Unavailable, "The server answered the upload without a version.");
        return (version, response.StatusCode == System.Net.HttpStatusCode.Created);
    }

    // Downloaded into a hidden file that takes its name only once its content matches the version's hash.
    private static async Task<string> DownloadAsync(CommandContext context, DatasetRef reference, string folder, CancellationToken cancellationToken)
    {
        var (version, _) = await RemoteVersionAsync(context, reference, cancellationToken);
        if (version.Format == DatasetFormat.Folder)
        {
            throw CairnException.Invalid($"{version.Reference} is a folder of files; restore it where the store is.");
        }

        var target = Path.Combine(folder, Path.GetFileName(version.Source) is { Length: > 0 } source ? source : version.Name + (version.Format == DatasetFormat.Parquet ? ".parquet" : ".csv"));
        if (File.Exists(target) || Directory.Exists(target))
        {
            throw new CairnException(ErrorCode.Conflict, $"'{target}' already exists; choose another folder or remove it.");
        }

        using var response = await context.Remote.SendRawAsync(HttpMethod.Get, $"api/datasets/{Uri.EscapeDataString(version.Name)}/versions/{version.Version}/file",
            () => null, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var sha = System.Security.Cryptography.SHA256.Create();
        await using var hashed = new System.Security.Cryptography.CryptoStream(body, sha, System.Security.Cryptography.CryptoStreamMode.Read);
        await FileOutput.WriteAtomicallyAsync(target, hashed, cancellationToken, () =>
        {
            if (ContentHash.FromDigest(sha.Hash) != version.ContentHash)
            {
                throw new CairnException(ErrorCode.Corrupt, $"The file the server sent for {version.Reference} does not match its content hash; nothing was written.");
            }
        });
        return target;
    }

    private static int WriteLog(CommandContext context, IReadOnlyList<DatasetVersion> versions)
    {
        if (context.Json)
        {
            context.Console.WriteJson(versions, CairnJson.Readable.IReadOnlyListDatasetVersion);
            return 0;
        }

        var table = new Table().AddColumns("version", "parent", "added", "rows", "sha256", "source", "message", "tags");
        foreach (var v in versions)
        {
            table.AddRow(v.Reference, v.ParentVersion is { } p ? $"{v.Name}@{p}" : "-", Format.Time(v.CreatedAt), Format.Count(v.RowCount), v.ContentHash.Short,
                Markup.Escape(v.Source), Markup.Escape(v.Message ?? ""), Markup.Escape(string.Join(", ", v.Tags.Select(t => $"{t.Key}={t.Value}"))));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static int WriteAdded(CommandContext context, DatasetVersion version, bool created)
    {
        if (context.Json)
        {
            context.Console.WriteJson(version, CairnJson.Readable.DatasetVersion);
            return 0;
        }

        var console = context.Console.Out;
        if (created)
        {
            console.MarkupLineInterpolated($"[green]Added[/] {version.Reference}: {Format.Count(version.RowCount)} rows, {version.Schema.Columns.Count} columns, sha256:{version.ContentHash.Short}");
        }
        else
        {
            console.MarkupLineInterpolated($"[yellow]Unchanged[/]: {version.Reference} already has this content (sha256:{version.ContentHash.Short})");
        }

        console.Write(Format.SchemaTable(version.Schema));
        return 0;
    }

    private static int WriteList(CommandContext context, IReadOnlyList<Core.Data.DatasetSummary> datasets)
    {
        if (context.Json)
        {
            context.Console.WriteJson(datasets, CairnJson.Readable.IReadOnlyListDatasetSummary);
            return 0;
        }

        if (datasets.Count == 0)
        {
            context.Console.Out.MarkupLine("No datasets yet. Add one with: cairn datasets add FILE --name NAME");
            return 0;
        }

        var table = new Table().AddColumns("name", "latest", "versions", "created", "updated");
        foreach (var d in datasets)
        {
            table.AddRow(Markup.Escape(d.Name), $"v{d.LatestVersion}", d.VersionCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Format.Time(d.CreatedAt), Format.Time(d.UpdatedAt));
        }

        context.Console.Out.Write(table);
        return 0;
    }

    private static int WriteShown(CommandContext context, DatasetVersion version, int versions, DatasetManifest? manifest)
    {
        if (context.Json)
        {
            context.Console.WriteJson(version, CairnJson.Readable.DatasetVersion);
            return 0;
        }

        var console = context.Console.Out;
        console.MarkupLineInterpolated($"[bold]{version.Reference}[/]  (of {versions} version(s))");
        console.MarkupLineInterpolated($"  rows      {Format.Count(version.RowCount)}");
        console.MarkupLineInterpolated($"  size      {Format.Count(version.SizeBytes)} bytes");
        console.MarkupLineInterpolated($"  sha256    {version.ContentHash.Hex}");
        console.MarkupLineInterpolated($"  source    {version.Source}");
        console.MarkupLineInterpolated($"  format    {version.Format.ToString().ToLowerInvariant()}");
        if (manifest is not null)
        {
            console.MarkupLineInterpolated($"  files     {manifest.Files.Count} (the sha256 above is the manifest's)");
            foreach (var file in manifest.Files.Take(20))
            {
                console.MarkupLineInterpolated($"    {file.Path}  {Format.Count(file.SizeBytes)} bytes  {file.ContentHash.Short}");
            }
        }

        console.MarkupLineInterpolated($"  created   {Format.Time(version.CreatedAt)}");
        console.Write(Format.SchemaTable(version.Schema));
        return 0;
    }
}

using System.Diagnostics;

namespace Cairn.Cli.Tests;

/// <summary>
/// The CLI as a client of a server: a laptop with a profile and no store runs commands through the server's API, with
/// the same output and exit codes as the same commands on the server's own store.
/// </summary>
public sealed class RemoteCliTests : IAsyncLifetime
{
    private const string Spec = "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2, num_iterations: 10}\n";

    private readonly CairnHarness _server = new();
    private readonly CairnHarness _laptop = new();
    private readonly List<Process> _workers = [];
    private HttpClient _http = null!;

    private string ProfilesFile => Path.Combine(_laptop.WorkingDirectory, "config", "cairn", "profiles.json");

    public async Task InitializeAsync()
    {
        await _server.TrainAndRegisterAsync("iris.csv", "iris", Spec, "iris-species");
        await _server.TrainAndRegisterAsync("iris.csv", "iris", Spec, "iris-species");
        _http = await _server.StartServerAsync();
        // The laptop's own home stays empty: everything it shows must come from the server.
        _laptop.Environment["XDG_CONFIG_HOME"] = Path.Combine(_laptop.WorkingDirectory, "config");
    }

    public async Task DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
            worker.Dispose();
        }

        _http.Dispose();
        await _laptop.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task WithAProfile_CommandsGoThroughTheServer_WithTheSameOutputAsOnItsStore()
    {
        var login = await _laptop.RunOkAsync("login", _http.BaseAddress!.ToString());
        Assert.Contains("Logged in to", login.Output, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ProfilesFile));
        }

        var runId = (await _server.RunOkAsync("runs", "list", "--json")).Json[0].GetProperty("id").GetString()!;
        string[][] commands =
        [
            ["runs", "show", runId], ["runs", "show", runId[..20]], ["datasets", "profile", "iris"], ["datasets", "diff", "iris@1", "iris@1"],
            ["datasets", "contract", "infer", "iris@1"], ["datasets", "split", "iris", "--validation", "0.1"], ["datasets", "split", "iris@1", "--method", "hash", "--column", "sepal_length_cm"], ["lineage", "dataset:iris@1"], ["lineage", "model:iris-species/1"], ["lineage", $"run:{runId}"],
            ["runs", "list"], ["runs", "list", "--limit", "1"], ["runs", "search", "--filter", "params.trainer = 'lightgbm'"], ["experiments", "list"],
            ["datasets", "list"], ["datasets", "show", "iris"], ["datasets", "show", "iris@1"], ["datasets", "log", "iris"], ["models", "list"], ["models", "list", "--filter", "name LIKE 'iris%'"], ["models", "show", "iris-species"],
            ["events"], ["events", "--kind", "model.", "--since", "2020-01-01"], ["policies", "runs"],
        ];
        await AssertSameOutputAsync(commands, withJson: true);

        // A run's report comes down from the server's artifacts.
        Assert.Contains("Wrote", (await _laptop.RunOkAsync("runs", "report", runId[..20], "-o", "run.html")).Output, StringComparison.Ordinal);
        await _server.RunOkAsync("runs", "report", runId, "-o", "run.html");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_server.WorkingDirectory, "run.html")), await File.ReadAllBytesAsync(Path.Combine(_laptop.WorkingDirectory, "run.html")));

        // A contract written through the server, checked through it; the result is stored there.
        Assert.Contains("Wrote", (await _laptop.RunOkAsync("datasets", "contract", "infer", "iris", "-o", "iris-contract.yaml")).Output, StringComparison.Ordinal);
        Assert.Contains("Passed", (await _laptop.RunOkAsync("datasets", "validate", "iris@1", "--contract", "iris-contract.yaml")).Output, StringComparison.Ordinal);
        var strict = _laptop.WriteFile("strict.yaml", (await File.ReadAllTextAsync(Path.Combine(_laptop.WorkingDirectory, "iris-contract.yaml")))
            .Replace("rows:\n  min: 1\n", "rows:\n  min: 1000\n", StringComparison.Ordinal));
        var broken = await _laptop.RunAsync("datasets", "validate", "iris@1", "--contract", strict);
        Assert.Equal(CliApp.CheckFailed, broken.ExitCode);
        Assert.Equal((await _server.RunAsync("datasets", "validate", "iris@1", "--contract", strict)).Output, broken.Output);

        // A split's parts come down whole, the same bytes as on the server's machine.
        await _laptop.RunOkAsync("datasets", "split", "iris@1", "--validation", "0.1", "-o", "parts");
        await _server.RunOkAsync("datasets", "split", "iris@1", "--validation", "0.1", "-o", "parts");
        foreach (var part in new[] { "train.csv", "validation.csv", "test.csv" })
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_server.WorkingDirectory, "parts", part)), await File.ReadAllBytesAsync(Path.Combine(_laptop.WorkingDirectory, "parts", part)));
        }

        Assert.Equal(4, (await _laptop.RunAsync("datasets", "split", "iris@1", "-o", "parts")).ExitCode);

        // A model file imported through the server is streamed to it and registered there.
        var imported = await _laptop.RunOkAsync("models", "import", Path.Combine(AppContext.BaseDirectory, "data", "onnx", "iris_logistic.onnx"), "--name", "iris-sklearn",
            "--label", "target", "--features", "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm");
        Assert.Contains("Imported iris-sklearn version 1: multiclass", imported.Output, StringComparison.Ordinal);
        Assert.Contains("iris_logistic.onnx", (await _server.RunOkAsync("runs", "list", "--json")).Output, StringComparison.Ordinal);

        // Changes made through the server land in its store.
        Assert.Contains("Created experiment", (await _laptop.RunOkAsync("experiments", "create", "from-laptop")).Output, StringComparison.Ordinal);
        Assert.Contains("from-laptop", (await _server.RunOkAsync("experiments", "list")).Output, StringComparison.Ordinal);
        var registered = await _laptop.RunOkAsync("models", "register", runId[..20], "--name", "iris-laptop", "--alias", "staging");
        Assert.Contains($"Registered iris-laptop version 1 (alias staging) from run {runId}", registered.Output, StringComparison.Ordinal);
        Assert.Contains(runId, (await _server.RunOkAsync("models", "show", "iris-laptop", "--json")).Output, StringComparison.Ordinal);
        await _laptop.RunOkAsync("models", "set-alias", "iris-species", "champion", "1");
        var model = (await _server.RunOkAsync("models", "list", "--json")).Json.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "iris-species");
        Assert.Equal(1, model.GetProperty("aliases").GetProperty("champion").GetInt32());

        // A file added through the server is streamed to it and stored there; the same content again is no new version.
        var added = await _laptop.RunOkAsync("datasets", "add", CairnHarness.DataFile("diabetes.csv"), "--name", "diabetes", "-m", "from the laptop");
        Assert.Contains("Added diabetes@1", added.Output, StringComparison.Ordinal);
        Assert.Contains("Unchanged", (await _laptop.RunOkAsync("datasets", "add", CairnHarness.DataFile("diabetes.csv"), "--name", "diabetes")).Output, StringComparison.Ordinal);
        Assert.Equal("from the laptop", (await _server.RunOkAsync("datasets", "show", "diabetes", "--json")).Json.GetProperty("message").GetString());
        var restored = (await _laptop.RunOkAsync("datasets", "get", "diabetes@1", "-o", "restored", "--json")).Json.GetProperty("path").GetString()!;
        Assert.Equal(await File.ReadAllBytesAsync(CairnHarness.DataFile("diabetes.csv")), await File.ReadAllBytesAsync(restored));

        // Same mistakes, same exit codes.
        var missing = await _laptop.RunAsync("models", "show", "no-such-model");
        Assert.Equal((await _server.RunAsync("models", "show", "no-such-model")).ExitCode, missing.ExitCode);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no-such-model", missing.Error, StringComparison.Ordinal);

        // Heavy work through a server goes to its workers only when asked; never quietly to a local store.
        var train = await _laptop.RunAsync("train", "--config", _laptop.WriteFile("iris.yaml", Spec));
        Assert.Equal(2, train.ExitCode);
        Assert.Contains("add --remote", train.Error, StringComparison.Ordinal);
        // The registry's other changes go through too.
        await _laptop.RunOkAsync("models", "create", "scratch", "--description", "a try");
        await _laptop.RunOkAsync("models", "tag", "scratch", "team", "risk");
        await _laptop.RunOkAsync("models", "update", "iris-laptop", "--description", "from the laptop", "--version", "1");
        await _laptop.RunOkAsync("models", "tag", "iris-laptop", "stage", "try", "--version", "1");
        await _laptop.RunOkAsync("models", "untag", "scratch", "team");
        await _laptop.RunOkAsync("models", "rename", "scratch", "scratch-2");
        await _laptop.RunOkAsync("models", "delete-alias", "iris-laptop", "staging");
        var laptopModel = (await _server.RunOkAsync("models", "show", "iris-laptop", "--json")).Output;
        Assert.Contains("from the laptop", laptopModel, StringComparison.Ordinal);
        Assert.DoesNotContain("staging", laptopModel, StringComparison.Ordinal);
        Assert.Contains("scratch-2", (await _server.RunOkAsync("models", "list")).Output, StringComparison.Ordinal);
        await _laptop.RunOkAsync("models", "delete", "scratch-2");
        Assert.Equal(3, (await _server.RunAsync("models", "show", "scratch-2")).ExitCode);

        var notYet = await _laptop.RunAsync("policies", "run", "no-such-deployment");
        Assert.Equal(2, notYet.ExitCode);
        Assert.Contains("add --remote", notYet.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_laptop.Home, "metadata.db")), "the laptop opened a local store");

        // After logout the laptop's commands use its own (empty) home again.
        await _laptop.RunOkAsync("logout");
        Assert.Contains("No datasets yet", (await _laptop.RunOkAsync("datasets", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeploymentsMonitorsFeedbackAndAlerts_GoThroughTheServer_WithTheSameOutput()
    {
        await _laptop.RunOkAsync("login", _http.BaseAddress!.ToString());

        Assert.Contains("Deployed flowers (revision 1)", (await _laptop.RunOkAsync("deploy", "flowers", "--model", "iris-species@1")).Output, StringComparison.Ordinal);
        var updated = await _laptop.RunOkAsync("deployments", "update", "flowers", "--canary", "iris-species@2", "--percent", "20");
        Assert.Contains("canary iris-species@2 on 20%", updated.Output, StringComparison.Ordinal);
        Assert.Equal(2, (await _server.RunOkAsync("deployments", "show", "flowers", "--json")).Json.GetProperty("revision").GetInt32());
        var created = await _laptop.RunOkAsync("monitors", "create", "flowers", "--reference", "iris@1", "--window", "1d");
        Assert.Contains("Monitoring flowers against iris@1", created.Output, StringComparison.Ordinal);

        // Predictions served by the server, labeled from the laptop's CSV file.
        var ids = new List<string>();
        for (var i = 0; ids.Count < 3 && i < 100; i++)
        {
            using var answer = await _http.PostAsync("api/deployments/flowers/predict", new StringContent(
                """{"rows": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}]}""", System.Text.Encoding.UTF8, "application/json"));
            if (answer.IsSuccessStatusCode)
            {
                ids.Add(answer.Headers.GetValues(Server.InferenceEndpoints.PredictionIdHeader).Single()); // one row: the request's id
            }
            else
            {
                await Task.Delay(100); // the server has not loaded the new deployment yet
            }
        }

        var labels = _laptop.WriteFile("labels.csv", "prediction_id,label\n" + string.Concat(ids.Select(id => $"{id},0\n")));
        Assert.Contains("Recorded 3 label(s) for flowers", (await _laptop.RunOkAsync("feedback", "flowers", "--file", labels)).Output, StringComparison.Ordinal);
        var twice = await _laptop.RunAsync("feedback", "flowers", "--file", labels);
        Assert.NotEqual(0, twice.ExitCode);
        Assert.Equal((await _server.RunAsync("feedback", "flowers", "--file", labels)).ExitCode, twice.ExitCode);
        var evaluated = (await _laptop.RunOkAsync("monitors", "evaluate", "flowers", "--include-open", "--json")).Json;
        Assert.Equal(3, evaluated.EnumerateArray().Sum(w => w.GetProperty("rows").GetInt32()));
        var report = await _laptop.RunOkAsync("monitors", "report", "flowers", "-o", "flowers.html");
        Assert.Contains("Wrote", report.Output, StringComparison.Ordinal);
        Assert.Contains("<html", await File.ReadAllTextAsync(Path.Combine(_laptop.WorkingDirectory, "flowers.html")), StringComparison.OrdinalIgnoreCase);

        string[][] commands = [["lineage", ids[0]], ["lineage", "deployment:flowers"], ["deployments", "list"], ["deployments", "show", "flowers"], ["monitors", "list"], ["monitors", "show", "flowers"], ["alerts"], ["alerts", "flowers", "--limit", "2"]];
        await AssertSameOutputAsync(commands, withJson: true);

        // A policy's pipeline is a file on the machine that runs it: refused from a laptop, with the reason.
        var pipeline = _laptop.WriteFile("retrain.yaml", "steps: []\n");
        var policy = _laptop.WriteFile("policy.yaml", $"policy: {{schedule: \"0 3 * * *\", pipeline: {pipeline}, model: iris-species, holdout: iris}}\n");
        var refused = await _laptop.RunAsync("monitors", "update", "flowers", "--config", policy);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("pipeline file on the server", refused.Error, StringComparison.Ordinal);

        // Same mistakes, same exit codes; then the deletions land in the server's store.
        var missing = await _laptop.RunAsync("deployments", "show", "no-such-deployment");
        Assert.Equal(3, missing.ExitCode);
        Assert.Equal((await _server.RunAsync("deployments", "show", "no-such-deployment")).ExitCode, missing.ExitCode);
        await _laptop.RunOkAsync("monitors", "delete", "flowers");
        await _laptop.RunOkAsync("deployments", "delete", "flowers");
        Assert.Contains("No deployments yet", (await _server.RunOkAsync("deployments", "list")).Output, StringComparison.Ordinal);
        Assert.Contains("No monitors yet", (await _server.RunOkAsync("monitors", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoteJobs_RunOnTheServersWorker_WithTheirLogStreamedBack()
    {
        await _laptop.RunOkAsync("login", _http.BaseAddress!.ToString());
        StartWorker();

        // Training: only the spec travels; the log a local run prints comes back, and the run records its job.
        var trained = await _laptop.RunOkAsync("train", "--config", _laptop.WriteFile("iris.yaml", Spec), "--remote");
        Assert.Contains("Training lightgbm (multiclass)", trained.Output, StringComparison.Ordinal);
        var trainJob = (await _laptop.RunOkAsync("jobs", "list", "--json")).Json[0];
        Assert.Equal("succeeded", trainJob.GetProperty("status").GetString());
        var trainRun = trainJob.GetProperty("run_id").GetString()!;
        Assert.Contains($"Job {trainJob.GetProperty("id").GetString()} succeeded: run {trainRun}", trained.Output, StringComparison.Ordinal);
        Assert.Equal(trainJob.GetProperty("id").GetString(),
            (await _server.RunOkAsync("runs", "show", trainRun, "--json")).Json.GetProperty("tags").GetProperty("cairn.job").GetString());

        // A pipeline: the files its steps read go with it, from folders below the spec's; its parameters too.
        _laptop.WriteFile("p/data/diabetes.csv", await File.ReadAllTextAsync(CairnHarness.DataFile("diabetes.csv")));
        _laptop.WriteFile("p/train.yaml", "dataset: sugar\nlabel: target\ntask: regression\nhyperparameters: {num_iterations: 10}\n");
        var pipeline = _laptop.WriteFile("p/pipeline.yaml", """
            name: sugar
            params:
              alias: {type: string, default: champion}
            steps:
            - {name: ingest, kind: ingest, with: {path: data/diabetes.csv, dataset: sugar}, inputs: ["file:data/diabetes.csv"], outputs: ["dataset:sugar"]}
            - {name: train, kind: train, with: {config: train.yaml}, inputs: ["dataset:sugar", "file:train.yaml"], outputs: ["run:train"]}
            - {name: register, kind: register, with: {run: train, model: sugar, alias: "${params.alias}"}, inputs: ["run:train"], outputs: ["model:sugar"]}
            """);
        var piped = await _laptop.RunOkAsync("pipelines", "run", pipeline, "--remote", "--param", "alias=staging");
        Assert.Contains("3 file(s)", piped.Output, StringComparison.Ordinal);
        Assert.Contains("register: done", piped.Output, StringComparison.Ordinal);
        Assert.Contains("\"staging\"", (await _server.RunOkAsync("models", "show", "sugar", "--json")).Output, StringComparison.Ordinal);
        var pipelineRun = (await _laptop.RunOkAsync("jobs", "list", "--json")).Json[0].GetProperty("run_id").GetString()!;
        await AssertSameOutputAsync([["pipelines", "list"], ["pipelines", "show", pipelineRun], ["pipelines", "status"], ["pipelines", "show", pipelineRun, "--json"]]);

        // A file the pipeline reads that is missing here is refused before anything is uploaded.
        var broken = _laptop.WriteFile("p/broken.yaml", "name: broken\nsteps:\n- {name: ingest, kind: ingest, with: {path: gone.csv, dataset: gone}, inputs: [\"file:gone.csv\"]}\n");
        var refused = await _laptop.RunAsync("pipelines", "run", broken, "--remote");
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("gone.csv", refused.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await _laptop.RunOkAsync("jobs", "list", "--json")).Json.GetArrayLength());

        // A running job is cancelled by its worker; the command following it ends with it.
        var slow = _laptop.WriteFile("slow/pipeline.yaml", "name: slow\nsteps:\n- {name: wait, run: [sleep, \"60\"]}\n");
        var following = _laptop.RunAsync("pipelines", "run", slow, "--remote");
        string? slowJob = null;
        for (var i = 0; i < 300 && slowJob is null; i++)
        {
            await Task.Delay(100);
            slowJob = (await _laptop.RunOkAsync("jobs", "list", "--json")).Json.EnumerateArray()
                .FirstOrDefault(j => j.GetProperty("status").GetString() == "running" && j.GetProperty("spec").GetString() == "pipeline.yaml"
                    && j.GetProperty("files").GetArrayLength() == 1) is { ValueKind: System.Text.Json.JsonValueKind.Object } job ? job.GetProperty("id").GetString() : null;
        }

        Assert.NotNull(slowJob);
        Assert.Contains("Cancelling", (await _laptop.RunOkAsync("jobs", "cancel", slowJob!)).Output, StringComparison.Ordinal);
        var ended = await following.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, ended.ExitCode);
        Assert.Contains("cancelled", ended.Output, StringComparison.Ordinal);
        Assert.Contains("Cancelled.", (await _laptop.RunOkAsync("jobs", "logs", slowJob!)).Output, StringComparison.Ordinal);
        Assert.Equal(4, (await _laptop.RunAsync("jobs", "cancel", slowJob!)).ExitCode);
        var shown = await _laptop.RunOkAsync("jobs", "show", slowJob!);
        Assert.Contains("cancelled", shown.Output, StringComparison.Ordinal);
        Assert.Equal(3, (await _laptop.RunAsync("jobs", "show", "0123456789abcdef0123456789abcdef")).ExitCode);

        // Evaluation and reproduction are jobs too.
        var evaluated = await _laptop.RunOkAsync("models", "evaluate", "iris-species@1", "--dataset", "iris", "--slice", "target", "--remote");
        Assert.Contains("Evaluated iris-species@1 on iris@1 (150 labelled rows)", evaluated.Output, StringComparison.Ordinal);
        var reproduced = await _laptop.RunOkAsync("runs", "reproduce", trainRun[..20], "--remote");
        Assert.Contains($"Reproduced: run", reproduced.Output, StringComparison.Ordinal);
        Assert.Contains($"matches run {trainRun}", reproduced.Output, StringComparison.Ordinal);

        // Batch scoring on the worker: the input goes up, the scored file comes down, byte for byte what a local run writes.
        var predicted = await _laptop.RunOkAsync("predict", "--model", "iris-species@1", "--input", CairnHarness.DataFile("iris.csv"), "-o", "scored.csv", "--remote");
        Assert.Contains("Scored 150 rows of iris.csv", predicted.Output, StringComparison.Ordinal);
        await _server.RunOkAsync("predict", "--model", "iris-species@1", "--input", CairnHarness.DataFile("iris.csv"), "-o", "scored.csv");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_server.WorkingDirectory, "scored.csv")), await File.ReadAllBytesAsync(Path.Combine(_laptop.WorkingDirectory, "scored.csv")));
        await _laptop.RunOkAsync("predict", "--model", "iris-species@1", "--dataset", "iris@1", "-o", "scored.parquet", "--remote");
        Assert.True(new FileInfo(Path.Combine(_laptop.WorkingDirectory, "scored.parquet")).Length > 0);
        var unscored = await _laptop.RunAsync("predict", "--model", "no-such-model", "--dataset", "iris@1", "-o", "none.csv", "--remote");
        Assert.Equal(1, unscored.ExitCode);
        Assert.False(File.Exists(Path.Combine(_laptop.WorkingDirectory, "none.csv")));

        // A pipeline sent to run on a schedule: each firing is a job of its own, with the sender's rights; removing it stops them.
        Assert.Contains("Scheduled sugar-nightly", (await _laptop.RunOkAsync("pipelines", "schedule", pipeline, "--cron", "* * * * * ?", "--name", "sugar-nightly",
            "--param", "alias=nightly", "--remote")).Output, StringComparison.Ordinal);
        Assert.Contains("sent by", (await _laptop.RunOkAsync("pipelines", "schedules")).Output, StringComparison.Ordinal);
        var fired = false;
        for (var i = 0; i < 300 && !fired; i++)
        {
            await Task.Delay(100);
            fired = (await _laptop.RunOkAsync("jobs", "list", "--json")).Json.EnumerateArray()
                .Any(j => j.TryGetProperty("schedule", out var name) && name.GetString() == "sugar-nightly" && j.GetProperty("status").GetString() == "succeeded");
        }

        Assert.True(fired, "no firing of the schedule finished");
        Assert.Contains("\"nightly\"", (await _server.RunOkAsync("models", "show", "sugar", "--json")).Output, StringComparison.Ordinal);
        await _laptop.RunOkAsync("pipelines", "unschedule", "sugar-nightly");
        Assert.Contains("No schedules", (await _laptop.RunOkAsync("pipelines", "schedules")).Output, StringComparison.Ordinal);
        Assert.Equal(3, (await _laptop.RunAsync("pipelines", "unschedule", "sugar-nightly")).ExitCode);

        // A policy runs as a job too; one the deployment does not have fails with the reason, and a policy run is cancelled through the server.
        var policy = await _laptop.RunAsync("policies", "run", "no-such-deployment", "--remote");
        Assert.Equal(1, policy.ExitCode);
        Assert.Contains("no-such-deployment", policy.Output, StringComparison.Ordinal);
        Assert.Equal(3, (await _laptop.RunAsync("policies", "cancel", "0123456789abcdef0123456789abcdef")).ExitCode);

        // Without a server, --remote has nowhere to go.
        await _laptop.RunOkAsync("logout");
        Assert.Equal(2, (await _laptop.RunAsync("train", "--config", _laptop.WriteFile("iris.yaml", Spec), "--remote")).ExitCode);
    }

    // Each command (and, with withJson, its --json form) prints the same on the server's store and through the server.
    private async Task AssertSameOutputAsync(string[][] commands, bool withJson = false)
    {
        foreach (var command in commands)
        {
            foreach (var json in withJson ? new[] { false, true } : [false])
            {
                string[] args = json ? [.. command, "--json"] : command;
                var local = await _server.RunOkAsync(args);
                var remote = await _laptop.RunOkAsync(args);
                Assert.True(local.Output == remote.Output, $"cairn {string.Join(' ', args)} differs:\n--- on the store\n{local.Output}\n--- through the server\n{remote.Output}");
            }
        }
    }

    // A real worker process on the server's home, as `cairn pipelines worker` runs beside `cairn serve`.
    private void StartWorker()
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _server.WorkingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "cairn.dll"), "--home", _server.Home, "pipelines", "worker" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _workers.Add(process);
    }

    [Fact]
    public async Task TheNewEndpoints_RefuseBadInput_With4xx_NotA500()
    {
        static ByteArrayContent Zip(string entry, string text, string type = "application/zip")
        {
            using var memory = new MemoryStream();
            using (var zip = new System.IO.Compression.ZipArchive(memory, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
            {
                using var writer = new StreamWriter(zip.CreateEntry(entry).Open());
                writer.Write(text);
            }

            var content = new ByteArrayContent(memory.ToArray());
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(type);
            return content;
        }

        async Task<int> PostAsync(string path, HttpContent? content, string? origin = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
            if (origin is not null)
            {
                request.Headers.Add("Origin", origin);
            }

            using var response = await _http.SendAsync(request);
            return (int)response.StatusCode;
        }

        Assert.Equal(415, await PostAsync("api/jobs?kind=train&spec=t.yaml", Zip("t.yaml", Spec, "text/plain")));
        Assert.Equal(400, await PostAsync("api/jobs?kind=train&spec=t.yaml", new ByteArrayContent("not a zip"u8.ToArray()) { Headers = { ContentType = new("application/zip") } }));
        Assert.Equal(400, await PostAsync("api/jobs?kind=bogus&spec=t.yaml", Zip("t.yaml", Spec)));
        Assert.Equal(400, await PostAsync("api/jobs?kind=train&spec=../t.yaml", Zip("../t.yaml", Spec)));
        Assert.Equal(400, await PostAsync("api/jobs?kind=train&spec=t.yaml", Zip("t.yaml", "label: [")));
        Assert.Equal(400, await PostAsync("api/jobs?kind=reproduce&param=run=nope", null));
        Assert.Equal(403, await PostAsync("api/jobs?kind=train&spec=t.yaml", Zip("t.yaml", Spec), origin: "https://evil.example"));
        Assert.Equal(400, await PostAsync("api/models/x/import?file=m.onnx", new ByteArrayContent("not a model"u8.ToArray()) { Headers = { ContentType = new("application/octet-stream") } }));
        Assert.Equal(404, (int)(await _http.GetAsync("api/jobs/not-a-job")).StatusCode);
        Assert.Equal(0, (await _server.RunOkAsync("jobs", "list", "--json", "--server", _http.BaseAddress!.ToString())).Json.GetArrayLength());

        // A viewer may read but not send work to the workers, nor manage accounts.
        using var guarded = await _server.StartServerAsync(options: new Server.CairnServerOptions { Authentication = true });
        var viewer = $"vi-{Guid.NewGuid():N}"[..12];
        await _server.RunOkAsync("users", "create", viewer, "--no-token", "--role", "viewer");
        var token = (await _server.RunOkAsync("tokens", "create", "--user", viewer, "--name", "t", "--json")).Json.GetProperty("secret").GetString()!;
        using var asViewer = new HttpClient { BaseAddress = guarded.BaseAddress };
        asViewer.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(403, (int)(await asViewer.PostAsync("api/jobs?kind=train&spec=t.yaml", Zip("t.yaml", Spec))).StatusCode);
        Assert.Equal(403, (int)(await asViewer.PostAsync("api/users", new StringContent("""{"name": "mallory", "admin": true}""", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(200, (int)(await asViewer.GetAsync("api/jobs")).StatusCode);

        // The command line's sign-in takes no credentials, so it takes no nonsense either.
        using var anonymous = new HttpClient { BaseAddress = guarded.BaseAddress };
        var deep = new string('[', 5000) + new string(']', 5000);
        Assert.Equal(400, (int)(await anonymous.PostAsync("api/session/cli-token", new StringContent(deep, System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(401, (int)(await anonymous.PostAsync("api/session/cli-token",
            new StringContent("""{"code": "x", "verifier": "y", "name": "z"}""", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(400, (int)(await anonymous.GetAsync("signin/cli?port=1&state=s&challenge=c")).StatusCode);
    }

    [Fact]
    public async Task AServerThatIsDown_ExitsSix_NamingItsAddress()
    {
        var port = CairnHarness.FreePort();

        var result = await _laptop.RunAsync("datasets", "list", "--server", $"http://127.0.0.1:{port}");

        Assert.Equal(6, result.ExitCode);
        Assert.Contains($"http://127.0.0.1:{port}/", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongToken_IsRefusedAtLogin_AndNothingIsStored()
    {
        using var guarded = await _server.StartServerAsync(options: new Server.CairnServerOptions { Authentication = true });
        var user = $"ana-{Guid.NewGuid():N}"[..12];
        await _server.RunOkAsync("users", "create", user, "--no-token", "--admin");
        var token = (await _server.RunOkAsync("tokens", "create", "--user", user, "--name", "laptop", "--json")).Json.GetProperty("secret").GetString()!;

        var none = await _laptop.RunAsync("login", guarded.BaseAddress!.ToString());
        var wrong = await _laptop.RunAsync("login", guarded.BaseAddress!.ToString(), "--token", Core.Identity.TokenSecret.Generate());

        Assert.Equal(8, none.ExitCode);
        Assert.Contains("asks for a token", none.Error, StringComparison.Ordinal);
        Assert.Equal(8, wrong.ExitCode);
        Assert.Contains("refused the token", wrong.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(ProfilesFile));

        // With the right token the profile keeps it, and commands carry it; the token itself is never shown.
        await _laptop.RunOkAsync("login", guarded.BaseAddress!.ToString(), "--token", token, "--name", "team");
        var profiles = await _laptop.RunOkAsync("profiles");
        Assert.Contains(user, profiles.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(token, profiles.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(token, (await _laptop.RunOkAsync("profiles", "--json")).Output, StringComparison.Ordinal);
        Assert.Contains("iris", (await _laptop.RunOkAsync("datasets", "list")).Output, StringComparison.Ordinal);

        // A token for CI, made from the laptop: it works at once, and stops when revoked from the laptop.
        var ci = (await _laptop.RunOkAsync("tokens", "create", "--name", "ci", "--expires", "7d", "--json")).Json.GetProperty("secret").GetString()!;
        Assert.Contains("ci", (await _laptop.RunOkAsync("tokens", "list")).Output, StringComparison.Ordinal);
        using (var withCi = new HttpClient { BaseAddress = guarded.BaseAddress })
        {
            withCi.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ci);
            Assert.True((await withCi.GetAsync("api/datasets")).IsSuccessStatusCode);
            Assert.Contains("Revoked token ci", (await _laptop.RunOkAsync("tokens", "revoke", "ci")).Output, StringComparison.Ordinal);
            var refused = false;
            for (var i = 0; i < 50 && !refused; i++) // servers read the revocation within a second
            {
                refused = (await withCi.GetAsync("api/datasets")).StatusCode == System.Net.HttpStatusCode.Unauthorized;
                await Task.Delay(refused ? 0 : 100);
            }

            Assert.True(refused, "the revoked token still works");
        }

        Assert.Equal((await _server.RunOkAsync("grants", "list")).Output, (await _laptop.RunOkAsync("grants", "list")).Output);

        // An administrator manages accounts from the laptop too.
        var bob = $"bob-{Guid.NewGuid():N}"[..12];
        var team = $"team-{Guid.NewGuid():N}"[..12];
        await _laptop.RunOkAsync("groups", "create", team);
        var created = await _laptop.RunOkAsync("users", "create", bob, "--role", "editor");
        Assert.Contains($"Created user {bob}", created.Output, StringComparison.Ordinal);
        Assert.Contains("initial", created.Output, StringComparison.Ordinal); // its first token, shown once
        await _laptop.RunOkAsync("groups", "add", team, bob);
        await _laptop.RunOkAsync("grants", "set", team, "maintainer", "--on", "dataset:iris");
        await AssertSameOutputAsync([["users", "show", bob], ["users", "list"], ["groups", "list"], ["grants", "list", "--on", "dataset:iris"]]);

        await _laptop.RunOkAsync("grants", "remove", team, "--on", "dataset:iris");
        await _laptop.RunOkAsync("groups", "remove", team, bob);
        await _laptop.RunOkAsync("users", "disable", bob);
        var shownBob = (await _server.RunOkAsync("users", "show", bob)).Output;
        Assert.Contains("disabled", shownBob, StringComparison.Ordinal);
        Assert.DoesNotContain(team, shownBob, StringComparison.Ordinal);
        await _laptop.RunOkAsync("groups", "delete", team);
    }
}

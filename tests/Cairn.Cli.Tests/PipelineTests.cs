namespace Cairn.Cli.Tests;

public sealed class PipelineTests : IAsyncLifetime
{
    private const string Pipeline = """
        name: words
        params:
          word: {type: string, default: hello}
        steps:
        - name: write
          run: [sh, -c, "mkdir -p out && echo ${params.word} > out/word.txt"]
          inputs: [file:seed.txt]
          outputs: [file:out/word.txt]
        - name: shout
          run: [sh, -c, "tr a-z A-Z < out/word.txt > out/shout.txt"]
          inputs: [file:out/word.txt]
          outputs: [file:out/shout.txt]
        - name: other
          run: [sh, -c, "echo other > out-other.txt"]
          outputs: [file:out-other.txt]
        """;

    private readonly CairnHarness _cairn = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cairn.DisposeAsync();

    [Fact]
    public async Task Run_ThenRunAgain_ServesUnchangedStepsFromTheCache_AndRerunsWhatAnInputChanged()
    {
        _cairn.WriteFile("pipeline.yaml", Pipeline);
        var seed = _cairn.WriteFile("seed.txt", "1");

        var first = (await _cairn.RunOkAsync("pipelines", "run", "pipeline.yaml", "--json")).Json;
        var again = (await _cairn.RunOkAsync("pipelines", "run", "pipeline.yaml", "--json")).Json;
        File.WriteAllText(seed, "2");
        var changed = (await _cairn.RunOkAsync("pipelines", "run", "pipeline.yaml", "--json")).Json;
        var other = (await _cairn.RunOkAsync("pipelines", "run", "pipeline.yaml", "--param", "word=bye", "--json")).Json;

        bool[] Cached(System.Text.Json.JsonElement result) => [.. result.GetProperty("steps").EnumerateArray().OrderBy(s => s.GetProperty("step").GetString())
            .Select(s => s.GetProperty("cached").GetBoolean())];
        Assert.Equal("finished", first.GetProperty("status").GetString());
        Assert.Equal([false, false, false], Cached(first));     // other, shout, write
        Assert.Equal([true, true, true], Cached(again));
        Assert.Equal([true, false, false], Cached(changed));    // the seed changed: write reran, and shout after it
        Assert.Equal([true, false, false], Cached(other));
        Assert.Equal("BYE\n", File.ReadAllText(Path.Combine(_cairn.WorkingDirectory, "out", "shout.txt")));

        // A deleted output is not served from the cache: the step runs again to make it.
        File.Delete(Path.Combine(_cairn.WorkingDirectory, "out-other.txt"));
        var afterDelete = (await _cairn.RunOkAsync("pipelines", "run", "pipeline.yaml", "--param", "word=bye", "--json")).Json;
        var forced = (await _cairn.RunOkAsync("pipelines", "run", "pipeline.yaml", "--force", "--parallel", "1", "--json")).Json;
        Assert.Equal([false, true, true], Cached(afterDelete));
        Assert.Equal([false, false, false], Cached(forced));

        // --from reruns a step and what reads its outputs; list and show tell the story.
        var fromWrite = (await _cairn.RunOkAsync("pipelines", "run", "pipeline.yaml", "--from", "write", "--json")).Json;
        Assert.Equal([true, false, false], Cached(fromWrite));
        var listed = (await _cairn.RunOkAsync("pipelines", "list", "--json")).Json;
        Assert.Equal(7, listed.GetArrayLength());
        var shown = await _cairn.RunOkAsync("pipelines", "show", fromWrite.GetProperty("run_id").GetString()!);
        Assert.Contains("cached from", shown.Output);
        Assert.Contains("shout", shown.Output);
        Assert.Equal(2, (await _cairn.RunAsync("pipelines", "run", "pipeline.yaml", "--from", "nope")).ExitCode);
        Assert.Contains("must be at least 1", (await _cairn.RunAsync("pipelines", "run", "pipeline.yaml", "--parallel", "0")).Error);
    }

    [Fact]
    public async Task TheAdultExamplePipeline_IngestsValidatesTrainsAndRegisters_ThenIsServedFromTheCache()
    {
        var pipeline = Path.Combine(AppContext.BaseDirectory, "examples", "adult", "pipeline.yaml");

        var first = (await _cairn.RunOkAsync("pipelines", "run", pipeline, "--param", "trainer=fasttree", "--json")).Json;
        var again = (await _cairn.RunOkAsync("pipelines", "run", pipeline, "--param", "trainer=fasttree", "--json")).Json;

        Assert.Equal(["ingest", "ingest-test", "check", "train", "evaluate", "register"], first.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("step").GetString()));
        Assert.All(again.GetProperty("steps").EnumerateArray(), s => Assert.True(s.GetProperty("cached").GetBoolean()));
        var versions = (await _cairn.RunOkAsync("models", "show", "adult-income", "--json")).Json;
        var version = Assert.Single(versions.EnumerateArray());
        Assert.Equal(["champion"], version.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public async Task ASweepStep_RunsTrialsAsChildRuns_WithSuccessiveHalving_AndRegistersTheWinner()
    {
        _cairn.WriteFile("cancer.csv", await File.ReadAllTextAsync(CairnHarness.DataFile("breast_cancer.csv")));
        _cairn.WriteFile("sweep.yaml", """
            dataset: cancer
            label: target
            task: binary
            trainer: fasttree
            hyperparameters: {num_trees: 40}
            split: {test_fraction: 0.25, validation_fraction: 0.2}
            sweep:
              method: grid
              parallel: 2
              early_stopping: successive_halving
              reduction: 2
              space:
                num_leaves: [2, 4, 8, 16]
            """);
        _cairn.WriteFile("pipeline.yaml", """
            name: tuned
            steps:
            - {name: ingest, kind: ingest, with: {path: cancer.csv, dataset: cancer}, inputs: ["file:cancer.csv"], outputs: ["dataset:cancer"]}
            - {name: tune, kind: sweep, with: {config: sweep.yaml}, inputs: ["dataset:cancer", "file:sweep.yaml"], outputs: ["run:tune"]}
            - {name: register, kind: register, with: {run: tune, model: cancer, alias: champion}, inputs: ["run:tune"], outputs: ["model:cancer"]}
            """);

        await _cairn.RunOkAsync("pipelines", "run", "pipeline.yaml");

        var sweep = (await _cairn.RunOkAsync("runs", "search", "--filter", "tags.`cairn.kind` = 'sweep'", "--json")).Json[0];
        var children = (await _cairn.RunOkAsync("runs", "search", "--filter", $"tags.`mlflow.parentRunId` = '{sweep.GetProperty("id").GetString()}'", "--json")).Json;
        // Four trials with 10 trees, the best two with 20, the best one with 40.
        Assert.Equal(7, children.GetArrayLength());
        Assert.Equal(["10", "10", "10", "10", "20", "20", "40"],
            children.EnumerateArray().Select(c => c.GetProperty("params").GetProperty("hp.num_trees").GetString()).Order());
        var best = sweep.GetProperty("tags").GetProperty("cairn.sweep.best_run").GetString();
        Assert.Equal("validation.auc", sweep.GetProperty("params").GetProperty("sweep.metric").GetString());
        Assert.Contains(children.EnumerateArray(), c => c.GetProperty("id").GetString() == best && c.GetProperty("params").GetProperty("hp.num_trees").GetString() == "40");
        var version = (await _cairn.RunOkAsync("models", "show", "cancer", "--json")).Json[0];
        Assert.Equal(best, version.GetProperty("run_id").GetString());
    }

    [Fact]
    public async Task AKilledRun_IsMarkedInterrupted_AndTheNextRunResumesFromItsFinishedSteps()
    {
        _cairn.WriteFile("seed.txt", "1");
        _cairn.WriteFile("slow.yaml", """
            name: slow
            steps:
            - {name: first, run: [sh, -c, "cp seed.txt first.txt"], inputs: ["file:seed.txt"], outputs: ["file:first.txt"]}
            - {name: second, run: [sh, -c, "sleep 60; cp first.txt second.txt"], inputs: ["file:first.txt"], outputs: ["file:second.txt"], timeout: 2m}
            """);
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = _cairn.WorkingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "cairn.dll"), "--home", _cairn.Home, "pipelines", "run", "slow.yaml" })
        {
            start.ArgumentList.Add(argument);
        }

        using (var process = System.Diagnostics.Process.Start(start)!)
        {
            // Wait until the second step runs, then kill the whole process as an out-of-memory kill or a reboot would.
            for (var i = 0; i < 600 && !(await _cairn.RunOkAsync("pipelines", "status")).Output.Contains("running: second", StringComparison.Ordinal); i++)
            {
                await Task.Delay(100);
            }

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _cairn.WriteFile("slow.yaml", File.ReadAllText(Path.Combine(_cairn.WorkingDirectory, "slow.yaml")).Replace("sleep 60; ", "", StringComparison.Ordinal));
        var resumed = (await _cairn.RunOkAsync("pipelines", "run", "slow.yaml", "--json")).Json;

        Assert.True(resumed.GetProperty("steps")[0].GetProperty("cached").GetBoolean());
        Assert.False(resumed.GetProperty("steps")[1].GetProperty("cached").GetBoolean());
        var pipelines = (await _cairn.RunOkAsync("pipelines", "list", "--json")).Json.EnumerateArray().ToList();
        var killed = pipelines.Single(p => p.GetProperty("id").GetString() != resumed.GetProperty("run_id").GetString());
        Assert.Equal("failed", killed.GetProperty("status").GetString());
        Assert.StartsWith("process ", killed.GetProperty("tags").GetProperty("cairn.interrupted").GetString(), StringComparison.Ordinal);
        Assert.Contains("No pipeline is running", (await _cairn.RunOkAsync("pipelines", "status")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATrainStepRunsInItsOwnProcess_SoKillingItFailsTheStepAndNotThePipelineRunner()
    {
        _cairn.WriteFile("adult.csv", await File.ReadAllTextAsync(CairnHarness.DataFile("adult.csv")));
        _cairn.WriteFile("train.yaml", "dataset: adult\nlabel: income\ntask: binary\nhyperparameters: {num_iterations: 5000, num_leaves: 255, min_data_in_leaf: 1}\n");
        _cairn.WriteFile("big.yaml", """
            name: big
            steps:
            - {name: ingest, kind: ingest, with: {path: adult.csv, dataset: adult}, inputs: ["file:adult.csv"], outputs: ["dataset:adult"]}
            - {name: heavy, kind: train, with: {config: train.yaml}, inputs: ["dataset:adult", "file:train.yaml"], outputs: ["run:heavy"]}
            """);

        var running = _cairn.RunAsync("pipelines", "run", "big.yaml");
        var killed = false;
        for (var i = 0; i < 600 && !killed && !running.IsCompleted; i++)
        {
            await Task.Delay(100);
            using var pkill = System.Diagnostics.Process.Start("pkill", ["-KILL", "-f", "pipelines step train --name heavy"])!;
            await pkill.WaitForExitAsync();
            killed = pkill.ExitCode == 0;
        }

        var result = await running;

        Assert.True(killed, "the child process of the train step was never seen");
        Assert.Equal(7, result.ExitCode);
        Assert.Contains("was killed", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASchedule_IsKeptInTheJobStore_AndAWorkerRunsIt()
    {
        _cairn.WriteFile("seed.txt", "1");
        _cairn.WriteFile("pipeline.yaml", Pipeline);

        var bad = await _cairn.RunAsync("pipelines", "schedule", "pipeline.yaml", "--cron", "every day");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("five Unix fields", bad.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await _cairn.RunAsync("pipelines", "schedule", "pipeline.yaml", "--cron", "* * * * *", "--param", "nope=1")).ExitCode);

        await _cairn.RunOkAsync("pipelines", "schedule", "pipeline.yaml", "--cron", "* * * * * ?", "--name", "every-second", "--param", "word=tick");
        await _cairn.RunOkAsync("pipelines", "schedule", "pipeline.yaml", "--cron", "0 3 * * 1-5", "--name", "weekday-nights");
        var listed = (await _cairn.RunOkAsync("pipelines", "schedules")).Output;
        Assert.Contains("0 0 3 ? * 2-6", listed, StringComparison.Ordinal);

        var worker = await _cairn.RunOkAsync("pipelines", "worker", "--max-runs", "1");

        Assert.Contains("FINISHED", worker.Output, StringComparison.Ordinal);
        Assert.Equal("TICK", File.ReadAllText(Path.Combine(_cairn.WorkingDirectory, "out", "shout.txt")).Trim());
        var run = (await _cairn.RunOkAsync("pipelines", "list", "--json")).Json[0];
        Assert.Equal("every-second", run.GetProperty("tags").GetProperty("cairn.schedule").GetString());
        await _cairn.RunOkAsync("pipelines", "unschedule", "every-second");
        Assert.DoesNotContain("every-second", (await _cairn.RunOkAsync("pipelines", "schedules")).Output, StringComparison.Ordinal);
        Assert.Equal(3, (await _cairn.RunAsync("pipelines", "unschedule", "every-second")).ExitCode);
    }

    [Fact]
    public async Task TheOtherExamplePipelines_RunEndToEnd_AndBatchScoreEveryRow()
    {
        foreach (var example in new[] { "breast-cancer", "bike-sharing", "sentiment" })
        {
            var result = (await _cairn.RunOkAsync("pipelines", "run", Path.Combine(AppContext.BaseDirectory, "examples", example, "pipeline.yaml"), "--json")).Json;
            Assert.Equal("finished", result.GetProperty("status").GetString());
        }

        var models = (await _cairn.RunOkAsync("models", "list", "--json")).Json.EnumerateArray().Select(m => m.GetProperty("name").GetString()).Order();
        Assert.Equal(["bike-demand", "breast-cancer", "sentiment"], models);
        var predictions = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "examples", "bike-sharing", "predictions.csv"));
        Assert.Equal(17_380, predictions.Length);
        Assert.EndsWith(",cnt,prediction", predictions[0], StringComparison.Ordinal);
        Assert.True(double.TryParse(predictions[1].Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture, out _));
        File.Delete(Path.Combine(AppContext.BaseDirectory, "examples", "bike-sharing", "predictions.csv"));
    }

    [Fact]
    public async Task ASplitStep_WritesItsParts_AndTheyFeedTheNextStep()
    {
        _cairn.WriteFile("people.csv", "id,x\n" + string.Concat(Enumerable.Range(0, 100).Select(i => $"p{i},{i}\n")));
        _cairn.WriteFile("split.yaml", """
            name: parts
            steps:
            - {name: ingest, kind: ingest, with: {path: people.csv, dataset: people}, inputs: ["file:people.csv"], outputs: ["dataset:people"]}
            - name: split
              kind: split
              with: {dataset: people, method: hash, column: id, test_fraction: "0.3", output: parts}
              inputs: ["dataset:people"]
              outputs: ["file:parts/train.csv", "file:parts/test.csv"]
            - {name: count, run: [sh, -c, "wc -l < parts/test.csv > count.txt"], inputs: ["file:parts/test.csv"], outputs: ["file:count.txt"]}
            """);

        await _cairn.RunOkAsync("pipelines", "run", "split.yaml");
        var again = (await _cairn.RunOkAsync("pipelines", "run", "split.yaml", "--from", "split", "--json")).Json;

        var tested = int.Parse(File.ReadAllText(Path.Combine(_cairn.WorkingDirectory, "count.txt")).Trim(), System.Globalization.CultureInfo.InvariantCulture) - 1;
        Assert.InRange(tested, 15, 45);
        Assert.Equal(101 - tested, File.ReadAllLines(Path.Combine(_cairn.WorkingDirectory, "parts", "train.csv")).Length);
        Assert.Equal("finished", again.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AFailingOrHangingCommand_FailsItsStepWithTheReason_AndLaterStepsDoNotRun()
    {
        _cairn.WriteFile("fail.yaml", """
            name: fails
            steps:
            - {name: broken, run: [sh, -c, "echo doing; exit 3"], outputs: ["file:x"], retries: 1}
            - {name: after, run: [sh, -c, "true"], inputs: ["file:x"]}
            """);
        _cairn.WriteFile("hang.yaml", "name: hangs\nsteps:\n- {name: sleepy, run: [sleep, '30'], timeout: 1s}\n");

        var failed = await _cairn.RunAsync("pipelines", "run", "fail.yaml", "--json");
        var hung = await _cairn.RunAsync("pipelines", "run", "hang.yaml");

        Assert.Equal(7, failed.ExitCode);
        var step = Assert.Single(failed.Json.GetProperty("steps").EnumerateArray());
        Assert.Equal(("broken", "failed"), (step.GetProperty("step").GetString(), step.GetProperty("status").GetString()));
        Assert.Contains("exited with code 3", step.GetProperty("error").GetString());
        var run = (await _cairn.RunOkAsync("runs", "show", step.GetProperty("run_id").GetString()!, "--json")).Json;
        Assert.Contains("exited with code 3", run.GetProperty("tags").GetProperty("cairn.step.error").GetString());
        Assert.Equal(7, hung.ExitCode);
        Assert.Contains("ran past its timeout of 1 s", hung.Output);

        _cairn.WriteFile("bad.yaml", "name: bad\nsteps:\n- {name: a, kind: teleport}\n");
        var bad = await _cairn.RunAsync("pipelines", "run", "bad.yaml");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("kind 'teleport' is not one of", bad.Error);
        Assert.Contains("declares no such parameter", (await _cairn.RunAsync("pipelines", "run", "fail.yaml", "--param", "nope=1")).Error);
    }
}

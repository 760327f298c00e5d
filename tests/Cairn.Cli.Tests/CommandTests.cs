namespace Cairn.Cli.Tests;

public sealed class CommandTests : IAsyncLifetime
{
    private readonly CairnHarness _cairn = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cairn.DisposeAsync();

    [Fact]
    public async Task DatasetsAdd_InfersTheSchema_AndIdenticalContentReturnsTheSameVersion()
    {
        var first = await _cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "iris", "--json");
        var copy = _cairn.WriteFile("iris-copy.csv", File.ReadAllText(CairnHarness.DataFile("iris.csv")));
        var again = await _cairn.RunOkAsync("datasets", "add", copy, "--name", "iris");

        Assert.Equal(1, first.Json.GetProperty("version").GetInt32());
        Assert.Equal(150, first.Json.GetProperty("row_count").GetInt64());
        Assert.Equal("4ee430a62e58386cb7db10bc5b725c93b664dd2fe1a036284b8e9ea3f7ed1a93", first.Json.GetProperty("content_hash").GetString());
        Assert.Equal("numeric", first.Json.GetProperty("schema").GetProperty("columns")[0].GetProperty("type").GetString());
        Assert.Contains("Unchanged: iris@1 already has this content", again.Output);
        var list = await _cairn.RunOkAsync("datasets", "list", "--json");
        Assert.Equal(1, list.Json[0].GetProperty("version_count").GetInt32());
    }

    [Fact]
    public async Task Mistakes_GetTheAnswerAPersonWouldGive_RunPrefixesVersionsAsListedNearestCommandsAndJsonErrors()
    {
        var runId = await _cairn.TrainAndRegisterAsync("iris.csv", "iris", "dataset: iris\nlabel: target\ntask: multiclass\ntrainer: sdca\n", "iris-species");
        await _cairn.RunOkAsync("models", "register", runId[..6], "--name", "iris-species");

        var shown = (await _cairn.RunOkAsync("runs", "show", runId[..8], "--json")).Json;
        var moved = await _cairn.RunAsync("models", "set-alias", "iris-species", "champion", "v2");
        var typo = await _cairn.RunAsync("trian");
        var nested = await _cairn.RunAsync("datasets", "lst");
        var badVersion = await _cairn.RunAsync("models", "set-alias", "iris-species", "champion", "two");
        var json = await _cairn.RunAsync("runs", "show", "ffff0000", "--json");
        var short3 = await _cairn.RunAsync("runs", "show", "abc");

        Assert.Equal(runId, shown.GetProperty("id").GetString());
        Assert.Equal(0, moved.ExitCode);
        Assert.Equal(2, (await _cairn.RunOkAsync("models", "list", "--json")).Json[0].GetProperty("aliases").GetProperty("champion").GetInt32());
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("Did you mean 'train'?", typo.Error);
        Assert.DoesNotContain("Required command", typo.Error);
        Assert.Contains("Did you mean 'list'?", nested.Error);
        Assert.Equal(2, badVersion.ExitCode);
        Assert.Contains("'two' is not a version number; give one such as 2 or v2", badVersion.Error);
        Assert.DoesNotContain("System.Int32", badVersion.Error);
        Assert.Equal(3, json.ExitCode);
        var error = System.Text.Json.JsonDocument.Parse(json.Error).RootElement;
        Assert.Equal(("No run id starts with 'ffff0000'.", "not_found"), (error.GetProperty("error").GetString(), error.GetProperty("code").GetString()));
        Assert.Equal(2, short3.ExitCode);
    }

    [Fact]
    public async Task ModelsEvaluate_OnAnotherDatasetVersion_RecordsARunWithSlices_AndNamesMissingColumns()
    {
        await _cairn.TrainAndRegisterAsync("iris.csv", "iris", "dataset: iris\nlabel: target\ntask: multiclass\ntrainer: sdca\n", "iris-species");
        var rows = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "iris.csv"));
        _cairn.WriteFile("fresh.csv", string.Join("\n", rows.Take(1).Concat(rows.Skip(1).Where((_, i) => i % 3 == 0))) + "\n");
        await _cairn.RunOkAsync("datasets", "add", "fresh.csv", "--name", "iris-fresh");

        var run = (await _cairn.RunOkAsync("models", "evaluate", "iris-species@champion", "--dataset", "iris-fresh", "--slice", "petal_width_cm", "--json")).Json;

        Assert.Equal("iris-fresh@1", run.GetProperty("params").GetProperty("dataset").GetString());
        Assert.Equal("50", run.GetProperty("params").GetProperty("rows").GetString());
        Assert.Equal("evaluation", run.GetProperty("inputs")[0].GetProperty("context").GetString());
        Assert.InRange(run.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("key").GetString() == "accuracy").GetProperty("value").GetDouble(), 0.7, 1);
        await _cairn.RunOkAsync("runs", "report", run.GetProperty("id").GetString()!, "-o", "fresh.html");
        Assert.Contains("Slices", await File.ReadAllTextAsync(Path.Combine(_cairn.WorkingDirectory, "fresh.html")), StringComparison.Ordinal);

        _cairn.WriteFile("narrow.csv", "sepal_length_cm,target\n5.1,0\n6.2,1\n");
        await _cairn.RunOkAsync("datasets", "add", "narrow.csv", "--name", "narrow");
        var before = (await _cairn.RunOkAsync("runs", "list", "--json")).Json.GetArrayLength();
        var bad = await _cairn.RunAsync("models", "evaluate", "iris-species", "--dataset", "narrow", "--slice", "nope");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("the model's input column 'petal_length_cm' is missing", bad.Error);
        Assert.Contains("the slice column 'nope' is missing", bad.Error);
        Assert.Equal(before, (await _cairn.RunOkAsync("runs", "list", "--json")).Json.GetArrayLength());
    }

    [Fact]
    public async Task RunsReproduce_RetrainsFromTheRecordedSpec_AndFindsTheSameMetricsAndModel()
    {
        var runId = await _cairn.TrainAndRegisterAsync("breast_cancer.csv", "cancer",
            "dataset: cancer\nlabel: target\ntask: binary\ntrainer: lightgbm\nhyperparameters: {num_iterations: 40}\nfeaturize: {select_features: 10}\n", "cancer");
        await _cairn.RunOkAsync("datasets", "add", _cairn.WriteFile("later.csv", "mean_radius,target\n1,0\n2,1\n"), "--name", "cancer");

        var text = await _cairn.RunOkAsync("runs", "reproduce", runId);
        var reproduced = (await _cairn.RunOkAsync("runs", "reproduce", runId, "--json")).Json;

        Assert.Contains("identical bytes", text.Output);
        Assert.Contains("Reproduced", text.Output);
        // The recorded spec names the exact version read, not the dataset's newest.
        Assert.Equal("cancer@1", reproduced.GetProperty("params").GetProperty("dataset").GetString());
        Assert.Equal(runId, reproduced.GetProperty("tags").GetProperty("cairn.reproduces").GetString());

        var evaluation = (await _cairn.RunOkAsync("models", "evaluate", "cancer", "--dataset", "cancer@1", "--json")).Json;
        var refused = await _cairn.RunAsync("runs", "reproduce", evaluation.GetProperty("id").GetString()!);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("only training runs can be reproduced", refused.Error);
    }

    [Fact]
    public async Task ModelsImport_ReadsTheSignatureFromTheGraph_ServesAndEvaluatesTheModel()
    {
        string Onnx(string name) => Path.Combine(AppContext.BaseDirectory, "data", "onnx", name);
        await _cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "iris");

        var version = (await _cairn.RunOkAsync("models", "import", Onnx("iris_logistic.onnx"), "--name", "iris-sklearn", "--alias", "champion", "--label", "target",
            "--features", "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm", "--json")).Json;
        var signature = version.GetProperty("package").GetProperty("signature");
        Assert.Equal("multiclass", signature.GetProperty("task").GetString());
        Assert.Equal(["0", "1", "2"], signature.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));

        var evaluation = (await _cairn.RunOkAsync("models", "evaluate", "iris-sklearn@champion", "--dataset", "iris", "--json")).Json;
        var accuracy = evaluation.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("key").GetString() == "accuracy").GetProperty("value").GetDouble();
        Assert.Equal(0.9733, accuracy, 3); // what the script that wrote the model measured

        var regression = (await _cairn.RunOkAsync("models", "import", Onnx("petal_width.onnx"), "--name", "petal", "--label", "petal_width_cm", "--json")).Json;
        Assert.Equal("regression", regression.GetProperty("package").GetProperty("signature").GetProperty("task").GetString());
        using var client = await _cairn.StartServerAsync("champion");
        using var response = await client.PostAsync("/api/models/iris-sklearn@champion/predict", new StringContent(
            """{"rows": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Contains("\"0\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var zipmap = await _cairn.RunAsync("models", "import", Onnx("iris_zipmap.onnx"), "--name", "zip");
        Assert.Equal(2, zipmap.ExitCode);
        Assert.Contains("zipmap", zipmap.Error, StringComparison.Ordinal);
        var notOnnx = await _cairn.RunAsync("models", "import", CairnHarness.DataFile("iris.csv"), "--name", "csv");
        Assert.Equal(2, notOnnx.ExitCode);
        Assert.Contains("not an ONNX model", notOnnx.Error, StringComparison.Ordinal);
        var wrongFeatures = await _cairn.RunAsync("models", "import", Onnx("iris_logistic.onnx"), "--name", "x", "--features", "a,b");
        Assert.Contains("2 feature name(s) given, but input 'float_input' takes 4", wrongFeatures.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelsImport_TakesAnXGBoostModel_AndServesItOnTheCompiledEngine_AsXGBoostPredicted()
    {
        // tests/data/xgboost/make_models.py trained it with XGBoost 1.7 and wrote its predictions for these rows.
        var directory = Path.Combine(AppContext.BaseDirectory, "data", "xgboost");
        var version = (await _cairn.RunOkAsync("models", "import", Path.Combine(directory, "breast_cancer_xgb.json"), "--name", "cancer-xgb", "--alias", "champion",
            "--label", "target", "--json")).Json;
        var signature = version.GetProperty("package").GetProperty("signature");
        Assert.Equal("binary", signature.GetProperty("task").GetString());
        Assert.Equal("mean_radius", signature.GetProperty("inputs")[0].GetProperty("name").GetString());
        Assert.Equal("compiled", version.GetProperty("tags").GetProperty("cairn.engine").GetString());

        var lines = File.ReadAllLines(Path.Combine(directory, "breast_cancer_xgb.predictions.csv"));
        var header = lines[0].Split(',');
        var values = lines[1].Split(',');
        var row = string.Join(", ", header[..^1].Select((name, i) => $"\"{name}\": {(values[i].Length == 0 ? "null" : values[i])}"));
        using var client = await _cairn.StartServerAsync("champion");
        var (status, body) = await client.PostJsonAsync("/api/models/cancer-xgb@champion/predict", $"{{\"rows\": [{{{row}}}]}}");
        Assert.Equal(200, status);
        var probability = body.GetProperty("predictions")[0].GetProperty("probability").GetDouble();
        Assert.Equal(double.Parse(values[^1], System.Globalization.CultureInfo.InvariantCulture), probability, 5);
        var (_, metadata) = await client.GetJsonAsync("/v2/models/cancer-xgb@champion");
        Assert.Equal("compiled", metadata.GetProperty("platform").GetString());

        var run = (await _cairn.RunOkAsync("runs", "show", version.GetProperty("run_id").GetString()!, "--json")).Json;
        Assert.Contains(run.GetProperty("artifacts").EnumerateArray(), a => a.GetProperty("path").GetString() == "model/source");
    }

    [Fact]
    public async Task Predict_ScoresAFileOrADatasetVersion_IntoACsv_AndBadInputWritesNothing()
    {
        await _cairn.TrainAndRegisterAsync("iris.csv", "iris", "dataset: iris\nlabel: target\ntask: multiclass\ntrainer: sdca\n", "iris-species");
        var rows = File.ReadAllLines(CairnHarness.DataFile("iris.csv"));
        // Enough rows for several chunks, so chunks are scored side by side and must come back in order.
        var many = _cairn.WriteFile("many.csv", string.Join("\n", [rows[0], .. Enumerable.Range(0, 200).SelectMany(_ => rows.Skip(1))]) + "\n");

        var scored = await _cairn.RunOkAsync("predict", "--model", "iris-species@champion", "--input", many, "-o", "out/many.csv");
        await _cairn.RunOkAsync("predict", "--model", "iris-species", "--dataset", "iris@1", "-o", "out/iris.csv");

        Assert.Contains("Scored 30,000 rows", scored.Output, StringComparison.Ordinal);
        var written = File.ReadAllLines(Path.Combine(_cairn.WorkingDirectory, "out", "many.csv"));
        Assert.Equal(30_001, written.Length);
        Assert.Equal(rows[0] + ",predicted_label,probability.0,probability.1,probability.2", written[0]);
        Assert.All(Enumerable.Range(1, 30_000), i => Assert.StartsWith(rows[1 + ((i - 1) % 150)] + ",", written[i], StringComparison.Ordinal));
        Assert.Equal(151, File.ReadAllLines(Path.Combine(_cairn.WorkingDirectory, "out", "iris.csv")).Length);

        // The same scoring into Parquet: typed columns, the same values as the CSV.
        await _cairn.RunOkAsync("predict", "--model", "iris-species@champion", "--input", many, "-o", "out/many.parquet");
        using (var parquet = new Adapters.Parquet.ParquetFiles().Open(File.OpenRead(Path.Combine(_cairn.WorkingDirectory, "out", "many.parquet"))))
        {
            Assert.Equal(written[0].Split(','), parquet.Header);
            var read = 0;
            while (parquet.TryRead())
            {
                var csv = written[1 + read].Split(',');
                for (var c = 0; c < csv.Length; c++)
                {
                    var value = System.Text.Encoding.UTF8.GetString(parquet.Field(c));
                    // Probabilities are single precision: the CSV prints the float, Parquet holds it as a double.
                    Assert.True(csv[c] == value || float.Parse(csv[c], System.Globalization.CultureInfo.InvariantCulture) == (float)double.Parse(value, System.Globalization.CultureInfo.InvariantCulture),
                        $"row {read}, column {c}: CSV {csv[c]}, Parquet {value}");
                }

                read++;
            }

            Assert.Equal(30_000, read);
        }

        var bad = _cairn.WriteFile("bad.csv", rows[0] + "\n5.1,3.5,1.4,0.2,0\n5.1,wide,1.4,0.2,0\n");
        var refused = await _cairn.RunAsync("predict", "--model", "iris-species", "--input", bad, "-o", "out/bad.csv");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("Row 2, column 'sepal_width_cm'", refused.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_cairn.WorkingDirectory, "out", "bad.csv")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_cairn.WorkingDirectory, "out"), ".*"));
        Assert.Equal(2, (await _cairn.RunAsync("predict", "--model", "iris-species", "-o", "x.csv")).ExitCode);
    }

    [Fact]
    public async Task DatasetsAdd_ChangedContent_MakesANewVersion_AndShowPrintsTheSchema()
    {
        var path = _cairn.WriteFile("small.csv", "x,kind\n1,a\n2,b\n");
        await _cairn.RunOkAsync("datasets", "add", "small.csv", "--name", "small");
        File.AppendAllText(path, "3,a\n");
        await _cairn.RunOkAsync("datasets", "add", "small.csv", "--name", "small");

        var show = await _cairn.RunOkAsync("datasets", "show", "small");
        var first = await _cairn.RunOkAsync("datasets", "show", "small@1", "--json");

        Assert.Contains("small@2", show.Output);
        Assert.Contains("categorical", show.Output);
        Assert.Equal(2, first.Json.GetProperty("row_count").GetInt64());
    }

    [Fact]
    public async Task DatasetsContract_InferredFromAVersion_PassesIt_AndAnEditedOneReportsEveryViolation()
    {
        var data = new System.Text.StringBuilder("id,amount,kind,seen\n");
        for (var i = 1; i <= 200; i++)
        {
            data.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i},{i * 1.5},{(i % 3 == 0 ? "a" : "b")},2024-03-{(i % 28) + 1:00}\n");
        }

        var path = _cairn.WriteFile("orders.csv", data.ToString());
        await _cairn.RunOkAsync("datasets", "add", "orders.csv", "--name", "orders");
        var profile = (await _cairn.RunOkAsync("datasets", "profile", "orders", "--json")).Json;
        Assert.Equal(200, profile.GetProperty("rows").GetInt64());
        Assert.Equal(300, profile.GetProperty("columns")[1].GetProperty("max").GetDouble());

        await _cairn.RunOkAsync("datasets", "contract", "infer", "orders@1", "-o", "orders.yaml");
        var yaml = File.ReadAllText(Path.Combine(_cairn.WorkingDirectory, "orders.yaml"));
        Assert.Contains("unique: true", yaml);
        Assert.Contains("latest: 2024-03-28T00:00:00+00:00", yaml);
        Assert.Contains("Passed", (await _cairn.RunOkAsync("datasets", "validate", "orders@1", "--contract", "orders.yaml")).Output);

        // A second version breaks six rules at once: a repeated id, an id and amounts out of range, a new category, a missing required value.
        File.AppendAllText(path, "7,999,c,2024-03-02\n201,1,b,\n");
        await _cairn.RunOkAsync("datasets", "add", "orders.csv", "--name", "orders");
        var failed = await _cairn.RunAsync("datasets", "validate", "orders@2", "--contract", "orders.yaml", "--json");

        Assert.Equal(7, failed.ExitCode);
        var violations = failed.Json.GetProperty("violations").EnumerateArray()
            .Select(v => $"{v.GetProperty("column").GetString()}:{v.GetProperty("rule").GetString()}").Order().ToArray();
        Assert.Equal(["amount:max", "amount:min", "id:max", "id:unique", "kind:allowed", "seen:nullable"], violations);
        Assert.Contains("row 201: '7'", failed.Output);
        var human = await _cairn.RunAsync("datasets", "validate", "orders@2", "--contract", "orders.yaml");
        Assert.Contains("broke 6 rule(s)", human.Output);

        var diff = await _cairn.RunOkAsync("datasets", "diff", "orders@1", "orders@2", "--json");
        Assert.Equal(200, diff.Json.GetProperty("from_rows").GetInt64());
        Assert.Equal(4, diff.Json.GetProperty("drift").GetProperty("columns").GetArrayLength());
        Assert.Contains("No dataset drift", (await _cairn.RunOkAsync("datasets", "diff", "orders@1", "orders@2")).Output);

        _cairn.WriteFile("bad.yaml", "columns:\n- name: id\n  type: number\n  max_missing: 3\n");
        var bad = await _cairn.RunAsync("datasets", "validate", "orders@1", "--contract", "bad.yaml");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("type 'number' is not one of", bad.Error);
        Assert.Contains("max_missing 3 is not a share", bad.Error);
    }

    [Fact]
    public async Task DatasetsSplit_ByHash_WritesTheParts_AndKeepsRowsInTheirPartAcrossVersions()
    {
        var path = _cairn.WriteFile("people.csv", "id,note\n" + string.Concat(Enumerable.Range(0, 300).Select(i => $"p{i},\"says \"\"hi\"\", {i}\"\n")));
        await _cairn.RunOkAsync("datasets", "add", "people.csv", "--name", "people");
        File.AppendAllText(path, string.Concat(Enumerable.Range(300, 100).Select(i => $"p{i},x\n")));
        await _cairn.RunOkAsync("datasets", "add", "people.csv", "--name", "people");

        var first = (await _cairn.RunOkAsync("datasets", "split", "people@1", "--method", "hash", "--column", "id", "--test", "0.25", "-o", "v1", "--json")).Json;
        await _cairn.RunOkAsync("datasets", "split", "people@2", "--method", "hash", "--column", "id", "--test", "0.25", "-o", "v2");

        var test1 = File.ReadAllLines(first.GetProperty("file.test").GetString()!).Skip(1).Select(l => l.Split(',')[0]).ToHashSet();
        var test2 = File.ReadAllLines(Path.Combine(_cairn.WorkingDirectory, "v2", "test.csv")).Skip(1).Select(l => l.Split(',')[0]).ToHashSet();
        Assert.Equal(300, int.Parse(first.GetProperty("train").GetString()!) + int.Parse(first.GetProperty("test").GetString()!));
        Assert.Subset(test2, test1);
        Assert.Equal(test1, test2.Where(id => int.Parse(id[1..]) < 300).ToHashSet());
        Assert.Contains("\"says \"\"hi\"\", 0\"", File.ReadAllText(Path.Combine(_cairn.WorkingDirectory, "v1", test1.Contains("p0") ? "test.csv" : "train.csv")));
        Assert.Equal(4, (await _cairn.RunAsync("datasets", "split", "people@1", "--method", "hash", "--column", "id", "-o", "v1")).ExitCode);
        Assert.Equal(2, (await _cairn.RunAsync("datasets", "split", "people@1", "--method", "time")).ExitCode);
    }

    [Fact]
    public async Task DatasetsAdd_AFolder_VersionsItByManifest_AndGetRestoresEveryFile()
    {
        _cairn.WriteFile("sales/2024/jan.csv", "x,kind\n1,a\n2,b\n");
        _cairn.WriteFile("sales/2024/feb.csv", "x,kind\n3,a\n");
        _cairn.WriteFile("sales/.hidden", "ignored");

        var first = (await _cairn.RunOkAsync("datasets", "add", "sales", "--name", "sales", "--json")).Json;
        var again = await _cairn.RunOkAsync("datasets", "add", "sales", "--name", "sales");
        _cairn.WriteFile("sales/2024/mar.csv", "x,kind\n4,c\n");
        var second = (await _cairn.RunOkAsync("datasets", "add", "sales", "--name", "sales", "--json")).Json;

        Assert.Equal(("folder", 3L), (first.GetProperty("format").GetString(), first.GetProperty("row_count").GetInt64()));
        Assert.Contains("Unchanged: sales@1", again.Output);
        Assert.Equal((2, 4L), (second.GetProperty("version").GetInt32(), second.GetProperty("row_count").GetInt64()));
        Assert.Equal(["a", "b", "c"], second.GetProperty("schema").GetProperty("columns")[1].GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("2024/feb.csv", (await _cairn.RunOkAsync("datasets", "show", "sales@2")).Output);
        Assert.Equal(4, (await _cairn.RunOkAsync("datasets", "profile", "sales@2", "--json")).Json.GetProperty("rows").GetInt64());

        var restored = (await _cairn.RunOkAsync("datasets", "get", "sales@1", "-o", "restore", "--json")).Json.GetProperty("path").GetString()!;
        Assert.Equal(["2024/feb.csv", "2024/jan.csv"], Directory.GetFiles(restored, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(restored, f).Replace('\\', '/')).Order());
        Assert.Equal("x,kind\n1,a\n2,b\n", File.ReadAllText(Path.Combine(restored, "2024", "jan.csv")));

        _cairn.WriteFile("mixed/a.csv", "x,kind\n1,a\n");
        _cairn.WriteFile("mixed/b.csv", "x,other\n1,a\n");
        var mismatch = await _cairn.RunAsync("datasets", "add", "mixed", "--name", "mixed");
        Assert.Equal(2, mismatch.ExitCode);
        Assert.Contains("'b.csv' has the columns x, other", mismatch.Error);
        _cairn.WriteFile("mixed/notes.txt", "hello");
        Assert.Contains("not CSV or Parquet: notes.txt", (await _cairn.RunAsync("datasets", "add", "mixed", "--name", "mixed")).Error);
        Assert.Single((await _cairn.RunAsync("datasets", "list", "--json")).Json.EnumerateArray());
    }

    [Fact]
    public async Task DatasetsAdd_Parquet_InfersTypesFromItsColumns_AndMixesWithCsvInAFolder()
    {
        var path = Path.Combine(_cairn.WorkingDirectory, "events", "part-1.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await WriteParquetAsync(path);
        _cairn.WriteFile("events/part-2.csv", "id,amount,kind,ok,at\n9,1.5,c,true,2024-02-01T00:00:00Z\n");

        var file = (await _cairn.RunOkAsync("datasets", "add", path, "--name", "events", "--json")).Json;
        var columns = file.GetProperty("schema").GetProperty("columns").EnumerateArray().ToArray();

        Assert.Equal(("parquet", 6L), (file.GetProperty("format").GetString(), file.GetProperty("row_count").GetInt64()));
        Assert.Equal(["numeric", "numeric", "categorical", "boolean", "date_time"], columns.Select(c => c.GetProperty("type").GetString()));
        Assert.Equal(2, columns[1].GetProperty("missing_count").GetInt64());
        var profile = (await _cairn.RunOkAsync("datasets", "profile", "events", "--json")).Json;
        Assert.Equal(5.5, profile.GetProperty("columns")[1].GetProperty("max").GetDouble());
        var restored = (await _cairn.RunOkAsync("datasets", "get", "events", "-o", "back", "--json")).Json.GetProperty("path").GetString()!;
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(restored));

        var folder = (await _cairn.RunOkAsync("datasets", "add", "events", "--name", "all-events", "--json")).Json;
        Assert.Equal(7, folder.GetProperty("row_count").GetInt64());
        _cairn.WriteFile("broken.parquet", "not parquet at all");
        var broken = await _cairn.RunAsync("datasets", "add", "broken.parquet", "--name", "broken");
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("not a readable Parquet file", broken.Error);
    }

    // Two row groups, nulls in a nullable column, and the types Parquet writers commonly use.
    private static async Task WriteParquetAsync(string path)
    {
        var id = new Parquet.Schema.DataField<long>("id");
        var amount = new Parquet.Schema.DataField<double?>("amount");
        var kind = new Parquet.Schema.DataField<string>("kind");
        var ok = new Parquet.Schema.DataField<bool>("ok");
        var at = new Parquet.Schema.DataField<DateTime>("at");
        await using var stream = File.Create(path);
        await using var writer = await Parquet.ParquetWriter.CreateAsync(new Parquet.Schema.ParquetSchema(id, amount, kind, ok, at), stream);
        foreach (var offset in new[] { 0, 3 })
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<long>(id, new long[] { offset + 1, offset + 2, offset + 3 });
            await group.WriteAsync<double>(amount, new double?[] { offset + 0.5, null, offset + 2.5 });
            await group.WriteAsync(kind, new[] { "a", "b", "a" });
            await group.WriteAsync<bool>(ok, new[] { true, false, true });
            await group.WriteAsync<DateTime>(at, new[] { new DateTime(2024, 1, 1 + offset, 0, 0, 0, DateTimeKind.Utc), new DateTime(2024, 1, 2 + offset, 0, 0, 0, DateTimeKind.Utc), new DateTime(2024, 1, 3 + offset, 0, 0, 0, DateTimeKind.Utc) });
        }
    }

    [Fact]
    public async Task DatasetsLogAndGet_ShowLineageMessagesAndTags_AndRestoreTheExactFile()
    {
        var path = _cairn.WriteFile("sales.csv", "x,kind\n1,a\n2,b\n");
        await _cairn.RunOkAsync("datasets", "add", "sales.csv", "--name", "sales", "-m", "first export", "--tag", "source=erp", "--tag", "quarter=q1");
        Assert.Contains("Unchanged", (await _cairn.RunOkAsync("datasets", "add", "sales.csv", "--name", "sales")).Output);
        File.AppendAllText(path, "3,a\n");
        await _cairn.RunOkAsync("datasets", "add", "sales.csv", "--name", "sales", "--message", "March added");

        var log = (await _cairn.RunOkAsync("datasets", "log", "sales", "--json")).Json;
        Assert.Equal([2, 1], log.EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal((1, "March added"), (log[0].GetProperty("parent_version").GetInt32(), log[0].GetProperty("message").GetString()));
        Assert.False(log[1].TryGetProperty("parent_version", out _));
        Assert.Equal("erp", log[1].GetProperty("tags").GetProperty("source").GetString());
        Assert.Contains("first export", (await _cairn.RunOkAsync("datasets", "log", "sales")).Output);

        var restored = (await _cairn.RunOkAsync("datasets", "get", "sales@1", "--output", "restore", "--json")).Json.GetProperty("path").GetString()!;
        Assert.Equal("x,kind\n1,a\n2,b\n", File.ReadAllText(restored));
        Assert.Equal(Path.Combine(_cairn.WorkingDirectory, "restore", "sales.csv"), restored);
        Assert.Equal(4, (await _cairn.RunAsync("datasets", "get", "sales@1", "--output", "restore")).ExitCode);
        var badTag = await _cairn.RunAsync("datasets", "add", "sales.csv", "--name", "sales", "--tag", "novalue");
        Assert.Equal(2, badTag.ExitCode);
        Assert.Contains("KEY=VALUE", badTag.Error);
    }

    [Fact]
    public async Task Train_RecordsParamsMetricsInputAndArtifacts_AndRunsShowsThem()
    {
        var runId = await _cairn.TrainAndRegisterAsync("iris.csv", "iris",
            "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2, num_iterations: 30}\n", "iris-species");

        var run = (await _cairn.RunOkAsync("runs", "show", runId, "--json")).Json;
        Assert.Equal("finished", run.GetProperty("status").GetString());
        Assert.Equal("lightgbm", run.GetProperty("params").GetProperty("trainer").GetString());
        Assert.Equal("iris@1", run.GetProperty("params").GetProperty("dataset").GetString());
        Assert.Equal("30", run.GetProperty("params").GetProperty("rows.test").GetString());
        Assert.Contains(run.GetProperty("metrics").EnumerateArray(), m => m.GetProperty("key").GetString() == "macro_accuracy");
        Assert.Equal("training", run.GetProperty("inputs")[0].GetProperty("context").GetString());
        Assert.Equal(["evaluation/evaluation.json", "evaluation/report.html", "model/model.onnx", "model/model.zip", "model/signature.json", "model/test_rows.csv", "spec/train.yaml"],
            run.GetProperty("artifacts").EnumerateArray().Select(a => a.GetProperty("path").GetString()));
        Assert.Contains(run.GetProperty("metrics").EnumerateArray(), m => m.GetProperty("key").GetString() == "macro_f1");
        Assert.InRange(run.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("key").GetString() == "onnx_max_abs_diff").GetProperty("value").GetDouble(), 0, 1e-4);

        var report = await _cairn.RunOkAsync("runs", "report", runId, "-o", "out/iris.html");
        var html = await File.ReadAllTextAsync(Path.Combine(_cairn.WorkingDirectory, "out", "iris.html"));
        Assert.Contains("Confusion matrix", html, StringComparison.Ordinal);
        Assert.Contains("Permutation importance", html, StringComparison.Ordinal);
        Assert.Contains("iris.html", report.Output, StringComparison.Ordinal);

        var list = await _cairn.RunOkAsync("runs", "list");
        Assert.Contains(runId, list.Output);
        Assert.Contains("FINISHED", list.Output);
        var found = (await _cairn.RunOkAsync("runs", "search", "--filter", "metrics.accuracy > 0.5 and params.trainer = 'lightgbm'", "--json")).Json;
        Assert.Equal(runId, found[0].GetProperty("id").GetString());
        var none = (await _cairn.RunOkAsync("runs", "search", "--filter", "params.trainer = 'fasttree'", "--json")).Json;
        Assert.Equal(0, none.GetArrayLength());
        var bad = await _cairn.RunAsync("runs", "search", "--filter", "metrics.accuracy >");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("position 19", bad.Error);

        var models = await _cairn.RunOkAsync("models", "show", "iris-species");
        Assert.Contains("champion", models.Output);
        Assert.Contains("petal_length_cm", models.Output);
        var modelList = (await _cairn.RunOkAsync("models", "list", "--json")).Json;
        Assert.Equal(1, modelList[0].GetProperty("aliases").GetProperty("champion").GetInt32());
    }

    [Fact]
    public async Task Models_CreateDescribeTagRenameDelete_AreAuditedEvents()
    {
        await _cairn.RunOkAsync("models", "create", "fraud", "--description", "first cut");
        await _cairn.RunOkAsync("models", "tag", "fraud", "team", "risk");
        await _cairn.RunOkAsync("models", "update", "fraud", "--description", "second cut");
        await _cairn.RunOkAsync("models", "rename", "fraud", "fraud-detector");

        var listed = (await _cairn.RunOkAsync("models", "list", "--filter", "tags.team = 'risk'", "--json")).Json;
        Assert.Equal(("fraud-detector", "second cut"), (listed[0].GetProperty("name").GetString(), listed[0].GetProperty("description").GetString()));
        var shown = await _cairn.RunOkAsync("models", "show", "fraud-detector");
        Assert.Contains("No versions yet", shown.Output);
        var missingVersion = await _cairn.RunAsync("models", "tag", "fraud-detector", "k", "v", "--version", "3");
        Assert.Equal(3, missingVersion.ExitCode);
        Assert.Contains("has no version 3", missingVersion.Error);
        var reserved = await _cairn.RunAsync("models", "create", "fraud-detector");
        Assert.Equal(4, reserved.ExitCode);

        await _cairn.RunOkAsync("models", "untag", "fraud-detector", "team");
        await _cairn.RunOkAsync("models", "delete", "fraud-detector");
        Assert.Equal(0, (await _cairn.RunOkAsync("models", "list", "--json")).Json.GetArrayLength());
        var events = (await _cairn.RunOkAsync("events", "--limit", "10", "--json")).Json;
        Assert.Equal(["model.deleted", "model.tag_deleted", "model.renamed", "model.updated", "model.tag_set", "model.created"],
            events.EnumerateArray().Select(e => e.GetProperty("kind").GetString()));
        var table = await _cairn.RunOkAsync("events");
        Assert.Contains("model.renamed", table.Output);
    }

    [Fact]
    public async Task Regression_TrainsAndServes()
    {
        await _cairn.TrainAndRegisterAsync("diabetes.csv", "diabetes", "dataset: diabetes\nlabel: target\ntask: regression\ntrainer: fastforest\n", "diabetes");
        using var client = await _cairn.StartServerAsync();

        var (status, body) = await client.PostJsonAsync("/api/models/diabetes/predict",
            "[{\"age\": 59, \"sex\": 2, \"bmi\": 32.1, \"bp\": 101, \"s1\": 157, \"s2\": 93.2, \"s3\": 38, \"s4\": 4, \"s5\": 4.8598, \"s6\": 87}]");

        Assert.Equal(200, status);
        Assert.InRange(body.GetProperty("predictions")[0].GetProperty("prediction").GetDouble(), 25, 346);
    }

    [Fact]
    public async Task Experiments_CreateAndList_AndADuplicateNameIsRejected()
    {
        var created = await _cairn.RunOkAsync("experiments", "create", "churn", "--json");
        var duplicate = await _cairn.RunAsync("experiments", "create", "churn");
        var list = await _cairn.RunOkAsync("experiments", "list", "--json");

        Assert.Equal("1", created.Json.GetProperty("id").GetString());
        Assert.Equal(4, duplicate.ExitCode);
        Assert.Contains("already exists", duplicate.Error);
        Assert.Equal(["Default", "churn"], list.Json.EnumerateArray().Select(e => e.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Home_FromOptionBeatsEnvironment_AndDefaultsToDotCairn()
    {
        var custom = Path.Combine(_cairn.WorkingDirectory, "custom-home");
        await _cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "iris", "--home", custom);
        _cairn.Environment[CairnHome.EnvironmentVariable] = "";
        await _cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("iris.csv"), "--name", "iris2");

        Assert.True(File.Exists(Path.Combine(custom, "metadata.db")));
        Assert.True(File.Exists(Path.Combine(_cairn.WorkingDirectory, ".cairn", "metadata.db")));
        Assert.False(File.Exists(Path.Combine(_cairn.Home, "metadata.db")));
    }
}

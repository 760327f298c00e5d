// Usage: Cairn.Bench.Tracking BASE_URL [points, default 1000000] [concurrent clients, default 4]
//        Cairn.Bench.Tracking search [runs, default 10000]
// Sends `points` metric points through /api/2.0/mlflow/runs/log-batch in batches of 1000 (MLflow's limit), then
// bulk-inserts the same rows into a fresh SQLite file with a prepared statement in one transaction, and prints both rates.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

if (args.Length > 0 && args[0] == "search")
{
    await SearchBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000);
    return;
}

var baseUrl = new Uri(args.Length > 0 ? args[0] : "http://127.0.0.1:5103/");
var points = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
var clients = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
const int BatchSize = 1000;

using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(5) };
var runIds = new string[clients];
for (var c = 0; c < clients; c++)
{
    using var response = await http.PostAsync("api/2.0/mlflow/runs/create", Json("""{"experiment_id": "0"}"""));
    response.EnsureSuccessStatusCode();
    using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    runIds[c] = body.RootElement.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
}

// Bodies are built before the clock starts: the benchmark measures the server, not the client's string building.
var batches = points / BatchSize;
var bodies = Enumerable.Range(0, batches).Select(b => Batch(runIds[b % clients], b)).ToArray();
var clock = Stopwatch.StartNew();
var next = -1;
await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
{
    int b;
    while ((b = Interlocked.Increment(ref next)) < batches)
    {
        using var response = await http.PostAsync("api/2.0/mlflow/runs/log-batch", Json(bodies[b]));
        response.EnsureSuccessStatusCode();
    }
}));
var httpRate = batches * BatchSize / clock.Elapsed.TotalSeconds;

var file = Path.Combine(Path.GetTempPath(), $"cairn-bench-{Guid.NewGuid():N}.db");
double rawRate;
using (var connection = new SqliteConnection($"Data Source={file}"))
{
    connection.Open();
    using (var setup = connection.CreateCommand())
    {
        setup.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE run_metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL, step INTEGER NOT NULL, timestamp INTEGER NOT NULL); CREATE INDEX run_metrics_by_run ON run_metrics (run_id, key, step);";
        setup.ExecuteNonQuery();
    }

    clock.Restart();
    using var transaction = connection.BeginTransaction();
    using var insert = connection.CreateCommand();
    insert.Transaction = transaction;
    insert.CommandText = "INSERT INTO run_metrics (run_id, key, value, step, timestamp) VALUES ($run, $key, $value, $step, $ts)";
    var run = insert.Parameters.Add("$run", SqliteType.Text);
    var key = insert.Parameters.Add("$key", SqliteType.Text);
    var value = insert.Parameters.Add("$value", SqliteType.Real);
    var step = insert.Parameters.Add("$step", SqliteType.Integer);
    var ts = insert.Parameters.Add("$ts", SqliteType.Integer);
    for (var i = 0; i < batches * BatchSize; i++)
    {
        run.Value = runIds[i / BatchSize % clients];
        key.Value = $"m{i % 10}";
        value.Value = i * 0.5;
        step.Value = (long)i;
        ts.Value = 1_700_000_000_000L + i;
        insert.ExecuteNonQuery();
    }

    transaction.Commit();
    rawRate = batches * BatchSize / clock.Elapsed.TotalSeconds;
}

SqliteConnection.ClearAllPools();
File.Delete(file);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"log-batch over HTTP ({clients} clients): {httpRate,12:N0} points/s"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw SQLite bulk insert:             {rawRate,12:N0} points/s"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio:                              {httpRate / rawRate,12:0.00}"));
return;

static StringContent Json(string json)
{
    var content = new StringContent(json, Encoding.UTF8);
    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
    return content;
}

static string Batch(string runId, int batch)
{
    var builder = new StringBuilder(64 * BatchSize);
    builder.Append(CultureInfo.InvariantCulture, $"{{\"run_id\":\"{runId}\",\"metrics\":[");
    for (var i = 0; i < BatchSize; i++)
    {
        var n = (batch * BatchSize) + i;
        builder.Append(CultureInfo.InvariantCulture, $"{(i > 0 ? "," : "")}{{\"key\":\"m{n % 10}\",\"value\":{n * 0.5},\"timestamp\":{1_700_000_000_000L + n},\"step\":{n}}}");
    }

    return builder.Append("]}").ToString();
}

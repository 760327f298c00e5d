// Usage: Cairn.Bench.Tracking BASE_URL [points, default 1000000] [concurrent clients, default 4] [postgresql://... of an empty database]
//        Cairn.Bench.Tracking search [runs, default 10000] [postgresql://... of an empty database]
// After 1,000 warm-up batches, sends `points` metric points through /api/2.0/mlflow/runs/log-batch in batches of 1000 (MLflow's limit), then
// bulk-inserts the same rows into a fresh table of the same kind of database (a SQLite file, or the PostgreSQL
// database given) with a prepared statement in one transaction, and prints both rates.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

if (args.Length > 0 && args[0] == "search")
{
    await SearchBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000, args.Length > 2 ? args[2] : null);
    return;
}

var baseUrl = new Uri(args.Length > 0 ? args[0] : "http://127.0.0.1:5103/");
var points = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
var clients = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
var postgres = args.Length > 3 ? args[3] : null;
const int BatchSize = 1000;
const int WarmUpBatches = 1000;

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

// Warm-up into a separate run, so the server's code is compiled at full optimization (tiered JIT) before timing,
// as it would be in a server that has been up for a while.
using (var warmUpRun = await http.PostAsync("api/2.0/mlflow/runs/create", Json("""{"experiment_id": "0"}""")))
{
    warmUpRun.EnsureSuccessStatusCode();
    var warmUpId = JsonDocument.Parse(await warmUpRun.Content.ReadAsStringAsync()).RootElement.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
    var warmUp = Enumerable.Range(0, WarmUpBatches).Select(b => Batch(warmUpId, b)).ToArray();
    var pending = -1;
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
    {
        int b;
        while ((b = Interlocked.Increment(ref pending)) < WarmUpBatches)
        {
            using var response = await http.PostAsync("api/2.0/mlflow/runs/log-batch", Json(warmUp[b]));
            response.EnsureSuccessStatusCode();
        }
    }));
}

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

var rows = Enumerable.Range(0, batches * BatchSize)
    .Select(i => (Run: runIds[i / BatchSize % clients], Key: $"m{i % 10}", Value: i * 0.5, Step: (long)i, Timestamp: 1_700_000_000_000L + i)).ToArray();
var rawRate = postgres is null ? RawBaselines.Sqlite(rows) : await RawBaselines.PostgreSqlAsync(postgres, rows);
var database = postgres is null ? "SQLite" : "PostgreSQL";
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"log-batch over HTTP into {database} ({clients} clients): {httpRate,12:N0} points/s"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw {database} bulk insert:                   {rawRate,12:N0} points/s"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio:                                      {httpRate / rawRate,12:0.00}"));
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

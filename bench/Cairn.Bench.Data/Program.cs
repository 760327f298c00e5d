// Usage: Cairn.Bench.Data [rows, default 1000000] [folder for the generated files, default a temporary one]
//        Cairn.Bench.Data monitor-drift [predictions, default 1000000]   (profiling a live window of 50 features, then evaluating its drift)
//        Cairn.Bench.Data readd FILE   (adds FILE, then times re-adding it unchanged inside the process)
//        Cairn.Bench.Data score MODEL.onnx SIGNATURE.json FILE.csv   (ONNX Runtime in process on the loaded rows: batch scoring's floor)
// Writes two CSV files of `rows` rows × 20 columns (10 normal numbers, 5 labels, 5 integers; the second shifted in
// a few columns), then times: reading the file's bytes, scanning its CSV fields (the floor any profiler pays), inferring
// its schema, profiling it with one and with two workers (with the managed heap's peak), and drift of the second
// file — loaded as an in-memory table — against the first file's stored profile.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Statistics;

if (args.Length > 3 && args[0] == "score")
{
    ScoreBaseline.Run(args[1], args[2], args[3]);
    return;
}

if (args.Length > 0 && args[0] == "monitor-drift")
{
    MonitorDrift.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000);
    return;
}

if (args.Length > 1 && args[0] == "readd")
{
    await ReAdd.RunAsync(args[1]);
    return;
}

var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var folder = args.Length > 1 ? args[1] : Directory.CreateTempSubdirectory("cairn-bench-data").FullName;
var reference = Path.Combine(folder, "reference.csv");
var current = Path.Combine(folder, "current.csv");
Write(reference, rows, seed: 1, shift: 0);
Write(current, rows, seed: 2, shift: 0.3);
Console.WriteLine($"files: {rows:N0} rows × 20 columns, {new FileInfo(reference).Length / 1048576.0:F0} MiB each");

var read = Time(() =>
{
    using var file = File.OpenRead(reference);
    var buffer = new byte[1 << 20];
    while (file.Read(buffer) > 0)
    {
    }
});
var scan = Time(() =>
{
    using var reader = CsvReader.Open(File.OpenRead(reference));
    long total = 0;
    while (reader.TryRead())
    {
        for (var i = 0; i < 20; i++)
        {
            total += reader.Field(i).Length;
        }
    }
});
TableSchema schema = null!;
var infer = Time(() =>
{
    using var reader = CsvReader.Open(File.OpenRead(reference));
    schema = SchemaInference.Infer(reader).Schema;
});

DatasetProfile profile = null!;
var one = Time(() => profile = Profiler.Profile(() => CsvReader.Open(File.OpenRead(reference)), schema, 1));
long peak = 0;
using (var sampler = new Timer(_ => peak = Math.Max(peak, GC.GetTotalMemory(false)), null, 0, 20))
{
    var baseline = GC.GetTotalMemory(true);
    var two = Time(() => profile = Profiler.Profile(() => CsvReader.Open(File.OpenRead(reference)), schema, 2));
    Console.WriteLine($"read bytes:           {read,8:F3} s");
    Console.WriteLine($"CSV scan (no stats):  {scan,8:F3} s");
    Console.WriteLine($"schema inference:     {infer,8:F3} s");
    Console.WriteLine($"profile, 1 worker:    {one,8:F3} s  ({one / scan:F1}× the scan)");
    Console.WriteLine($"profile, 2 workers:   {two,8:F3} s  ({two / scan:F1}× the scan)   target <= 2 s");
    Console.WriteLine($"managed heap while profiling: peak {(peak - baseline) / 1048576.0:F1} MiB above the {baseline / 1048576.0:F1} MiB before; file {new FileInfo(reference).Length / 1048576.0:F0} MiB");
}

var stored = JsonSerializer.SerializeToUtf8Bytes(profile, CairnJson.Compact.DatasetProfile);
Console.WriteLine($"stored profile: {stored.Length / 1024.0:F0} KiB");
var referenceProfile = JsonSerializer.Deserialize(stored, CairnJson.Compact.DatasetProfile)!;

Table table;
using (var reader = CsvReader.Open(File.OpenRead(current)))
{
    table = Table.Load(reader, schema);
}

DriftReport report = null!;
var drift = Time(() => report = DriftDetector.Compare(referenceProfile, Profiler.Profile(table, schema)));
var sketchOnly = Time(() => DriftDetector.Compare(referenceProfile, referenceProfile));
Console.WriteLine($"drift of a {rows:N0}-row table against the stored profile: {drift:F3} s  target <= 1 s  ({report.Columns.Count(c => c.Drifted)} of {report.Columns.Count} columns drifted)");
Console.WriteLine($"  of which comparing two stored profiles: {sketchOnly * 1000:F1} ms");
foreach (var c in report.Columns.Take(20))
{
    Console.WriteLine($"  {c.Column,-4} {c.Method,-14} {c.Score,10:F4}{(c.ErrorBound is { } e ? $" ±{e:F4}" : ""),-10} {(c.Drifted ? "drift" : "")}");
}

static double Time(Action action)
{
    action(); // warm-up: the timing is of compiled code, as in a long-running server
    var clock = Stopwatch.StartNew();
    action();
    return clock.Elapsed.TotalSeconds;
}

static void Write(string path, int rows, int seed, double shift)
{
    var random = new Random(seed);
    string[] labels = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"];
    using var output = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
    output.Write(string.Join(',', Enumerable.Range(0, 10).Select(i => $"x{i}").Concat(Enumerable.Range(0, 5).Select(i => $"c{i}")).Concat(Enumerable.Range(0, 5).Select(i => $"n{i}"))));
    output.Write('\n');
    var line = new StringBuilder();
    for (var r = 0; r < rows; r++)
    {
        line.Clear();
        for (var i = 0; i < 10; i++)
        {
            // Box–Muller; the shifted file moves the first three columns by `shift` standard deviations.
            var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            line.Append(Math.Round(i + ((1 + (i / 10.0)) * (normal + (i < 3 ? shift : 0))), 6).ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        for (var i = 0; i < 5; i++)
        {
            line.Append(labels[random.Next(3 + i)]).Append(',');
        }

        for (var i = 0; i < 5; i++)
        {
            line.Append(random.Next((int)Math.Pow(10, i + 1)).ToString(CultureInfo.InvariantCulture)).Append(i < 4 ? "," : "\n");
        }

        output.Write(line);
    }
}

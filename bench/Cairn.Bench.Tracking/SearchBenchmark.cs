using System.Diagnostics;
using System.Globalization;
using Cairn.Adapters.PostgreSql;
using Cairn.Adapters.Sqlite;
using Cairn.Application;
using Cairn.Application.Identity;
using Cairn.Adapters.Sql;
using Cairn.Core.Identity;
using Cairn.Core.Runs;
using Microsoft.Data.Sqlite;

/// <summary>Run search over many runs, each with 20 params and 20 metrics, and a million-point metric history, on the embedded SQLite store or PostgreSQL.</summary>
internal static class SearchBenchmark
{
    public static async Task RunAsync(int runCount, string? postgres)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"cairn-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            SqlMetadataStore store = postgres is null
                ? await SqliteMetadataStore.OpenAsync(Path.Combine(directory, "metadata.db"), TimeProvider.System, CancellationToken.None)
                : await PostgreSqlMetadataStore.OpenAsync(postgres, TimeProvider.System, CancellationToken.None);
            Console.WriteLine(postgres is null ? "store: SQLite" : "store: PostgreSQL");
            var runs = new RunService(store, store, TimeProvider.System, new Actor("bench"));
            var seed = Stopwatch.StartNew();
            var random = new Random(7);
            for (var i = 0; i < runCount; i++)
            {
                var run = await runs.CreateAsync("0", $"run-{i}", null, null, [], CancellationToken.None);
                var metrics = Enumerable.Range(0, 20).Select(m => new Metric($"m{m}", random.NextDouble(), 0, DateTimeOffset.UnixEpoch)).ToList();
                var parameters = Enumerable.Range(0, 20).Select(p => new KeyValuePair<string, string>($"p{p}", $"v{random.Next(10)}")).ToList();
                await runs.LogBatchAsync(run.Id, metrics, parameters, [], CancellationToken.None);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {runCount:N0} runs x (20 params + 20 metrics) in {seed.Elapsed.TotalSeconds:0.0} s"));
            const string Filter = "metrics.m3 > 0.9 and params.p7 = 'v3'";
            var timings = new List<double>();
            var matched = 0;
            for (var i = 0; i < 7; i++)
            {
                var clock = Stopwatch.StartNew();
                var (page, _) = await runs.SearchAsync(["0"], Filter, LifecycleStage.Active, ["metrics.m3 DESC"], 1000, null, CancellationToken.None);
                timings.Add(clock.Elapsed.TotalMilliseconds);
                matched = page.Count;
            }

            timings.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"search \"{Filter}\" ordered by metrics.m3: {matched} runs, median {timings[3]:0.0} ms (min {timings[0]:0.0}, max {timings[^1]:0.0}) over 7 runs"));

            // The same search as a user who may see the experiment through a grant: the store adds the permission
            // filter to the query (an IN over the grants table), and the rows are the same.
            var actor = new Actor("bench");
            var identities = new IdentityService(store, TimeProvider.System, actor);
            await identities.CreateAccountAsync("reader", PrincipalKind.User, null, isAdmin: false, Role.None, withToken: false, CancellationToken.None);
            await identities.GrantAsync("reader", ResourceRef.Experiment("0"), Role.Viewer, CancellationToken.None);
            var (_, secret) = await identities.CreateTokenAsync("reader", "bench", "read", null, CancellationToken.None);
            var authenticator = new Authenticator(store, identities, TimeProvider.System);
            var reader = await authenticator.AuthenticateTokenAsync(secret, CancellationToken.None);
            var filtered = new List<double>();
            var visibleRows = 0;
            for (var i = 0; i < 7; i++)
            {
                var clock = Stopwatch.StartNew();
                var page = await Task.Run(async () =>
                {
                    actor.Become(reader);
                    return (await runs.SearchAsync(["0"], Filter, LifecycleStage.Active, ["metrics.m3 DESC"], 1000, null, CancellationToken.None)).Runs;
                });
                filtered.Add(clock.Elapsed.TotalMilliseconds);
                visibleRows = page.Count;
            }

            filtered.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"the same search filtered by permission (a user with viewer on the experiment): {visibleRows} runs, median {filtered[3]:0.0} ms ({filtered[3] / timings[3]:0.00}x the unfiltered)"));

            // The per-request work of authentication and authorization on the scoring path, alone: a cached bearer
            // token looked up, the principal set for the request, and the predict check on a deployment.
            var deployment = ResourceRef.Deployment("adult");
            await identities.GrantAsync("reader", deployment, Role.Predict, CancellationToken.None);
            // The grant reaches the cached principal once the authenticator next reads the identity revision.
            await Task.Delay(Authenticator.RevisionCheckInterval + TimeSpan.FromMilliseconds(100));
            const int Calls = 2_000_000;
            for (var round = 0; round < 2; round++)
            {
                var auth = Stopwatch.StartNew();
                await Task.Run(async () =>
                {
                    for (var i = 0; i < Calls; i++)
                    {
                        actor.Become(await authenticator.AuthenticateTokenAsync(secret, CancellationToken.None));
                        actor.Demand(deployment, Role.Predict, "score");
                    }
                });
                if (round == 1)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"authentication + authorization per request (cached token, predict check): {auth.Elapsed.TotalMilliseconds * 1e6 / Calls:0} ns"));
                }
            }

            // One metric with a million points, read back whole.
            var series = await runs.CreateAsync("0", "long-series", null, null, [], CancellationToken.None);
            var batches = Enumerable.Range(0, 1000)
                .Select(batch => Enumerable.Range(0, 1000).Select(i => new Metric("loss", random.NextDouble(), (batch * 1000) + i, DateTimeOffset.UnixEpoch)).ToList())
                .ToList();
            var ingest = Stopwatch.StartNew();
            foreach (var points in batches)
            {
                await runs.LogBatchAsync(series.Id, points, [], [], CancellationToken.None);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"store-level log-batch (no HTTP), 1,000 batches of 1,000 points: {1_000_000 / ingest.Elapsed.TotalSeconds:N0} points/s"));

            var history = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                var clock = Stopwatch.StartNew();
                var all = await runs.GetMetricHistoryAsync(series.Id, "loss", CancellationToken.None);
                history.Add(clock.Elapsed.TotalMilliseconds);
                matched = all.Count;
            }

            history.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"full history of a {matched:N0}-point metric: median {history[1]:0} ms over 3 reads"));

            var summaries = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                var clock = Stopwatch.StartNew();
                matched = (await runs.GetMetricSummaryAsync(series.Id, "loss", 1000, CancellationToken.None)).Count;
                summaries.Add(clock.Elapsed.TotalMilliseconds);
            }

            summaries.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the same history downsampled to {matched:N0} buckets (min/max/last): median {summaries[1]:0} ms over 3 reads"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}

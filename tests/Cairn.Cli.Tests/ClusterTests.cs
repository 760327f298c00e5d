using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Cairn.Testing;
using Xunit.Abstractions;

namespace Cairn.Cli.Tests;

/// <summary>
/// Scale-out for real, on one machine: PostgreSQL, the S3-compatible server, three <c>cairn serve --deployment</c>
/// replicas as processes behind nginx, two pipeline workers. A replica killed under load costs no request; a moved
/// alias reaches every replica; a worker killed mid-pipeline leaves its job to the other.
/// </summary>
public sealed class ClusterTests(PostgreSqlServer postgres, S3Server s3, ITestOutputHelper output)
    : IClassFixture<PostgreSqlServer>, IClassFixture<S3Server>, IAsyncLifetime
{
    private const string Body = """{"rows": [{"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}]}""";

    private readonly CairnHarness _cairn = new();
    private readonly List<Process> _processes = [];
    private string _store = "";
    private string _bucket = "";
    private string _token = "";

    public async Task InitializeAsync()
    {
        _store = await postgres.CreateDatabaseAsync();
        _bucket = await s3.CreateBucketAsync();
        foreach (var (key, value) in Environment())
        {
            _cairn.Environment[key] = value;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes.Where(p => !p.HasExited))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        await _cairn.DisposeAsync();
    }

    private IEnumerable<(string, string)> Environment() =>
    [
        (CairnHome.StoreEnvironmentVariable, _store),
        (CairnHome.ArtifactsEnvironmentVariable, $"s3://{_bucket}/cairn"),
        ("CAIRN_S3_ENDPOINT", s3.Endpoint.ToString()),
        ("AWS_ACCESS_KEY_ID", S3Server.Credentials.GetCredentials().AccessKey),
        ("AWS_SECRET_ACCESS_KEY", S3Server.Credentials.GetCredentials().SecretKey),
    ];

    [Fact]
    public async Task ThreeReplicasBehindNginx_LoseNoRequest_WhenOneIsKilled_AndAllFollowAMovedAlias()
    {
        const string Spec = "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2, num_iterations: 10}\n";
        await _cairn.TrainAndRegisterAsync("iris.csv", "iris", Spec, "iris-cluster");
        await _cairn.TrainAndRegisterAsync("iris.csv", "iris", Spec, "iris-cluster");
        await _cairn.RunOkAsync("models", "set-alias", "iris-cluster", "champion", "1");
        await _cairn.RunOkAsync("deploy", "iris", "--model", "iris-cluster@champion");
        await _cairn.RunOkAsync("users", "create", "loadgen", "--no-token", "--admin");
        _token = (await _cairn.RunOkAsync("tokens", "create", "--user", "loadgen", "--name", "cluster", "--json")).Json.GetProperty("secret").GetString()!;

        var ports = new[] { CairnHarness.FreePort(), CairnHarness.FreePort(), CairnHarness.FreePort() };
        var replicas = new Process[3];
        for (var i = 0; i < 3; i++)
        {
            replicas[i] = await StartReplicaAsync(ports[i]);
        }

        var proxy = await StartNginxAsync(ports);
        using var http = Client(proxy);
        Assert.Equal("iris-cluster@1", await ServedVersionAsync(http));

        // Load through nginx while one replica is killed outright and started again.
        using var stop = new CancellationTokenSource();
        var load = LoadAsync(http, stop.Token);
        await Task.Delay(1500);
        replicas[0].Kill(entireProcessTree: true);
        await replicas[0].WaitForExitAsync();
        await Task.Delay(1500);
        var restart = Stopwatch.StartNew();
        replicas[0] = await StartReplicaAsync(ports[0]);
        using (var direct = Client(new Uri($"http://127.0.0.1:{ports[0]}/")))
        {
            Assert.Equal("iris-cluster@1", await ServedVersionAsync(direct));
        }

        output.WriteLine($"killed replica serving again {restart.ElapsedMilliseconds} ms after its restart began");
        await Task.Delay(1500);
        await stop.CancelAsync();
        var (answered, failed) = await load;
        output.WriteLine($"{answered} requests answered, {failed.Count} failed");
        Assert.True(answered > 100, $"only {answered} requests were sent");
        Assert.True(failed.Count == 0, $"{failed.Count} of {answered + failed.Count} requests failed: {string.Join("; ", failed.Distinct().Take(5))}");

        // A moved alias reaches every replica (PostgreSQL's NOTIFY).
        var moved = Stopwatch.StartNew();
        await _cairn.RunOkAsync("models", "set-alias", "iris-cluster", "champion", "2");
        var committed = moved.Elapsed;
        foreach (var port in ports)
        {
            using var direct = Client(new Uri($"http://127.0.0.1:{port}/"));
            var served = "";
            for (var i = 0; i < 300 && served != "iris-cluster@2"; i++)
            {
                served = await ServedVersionAsync(direct);
                if (served != "iris-cluster@2")
                {
                    await Task.Delay(20);
                }
            }

            Assert.Equal("iris-cluster@2", served);
        }

        output.WriteLine($"alias moved: every replica answered with version 2 within {(moved.Elapsed - committed).TotalMilliseconds:F0} ms of the command returning");
    }

    [Fact]
    public async Task AWorkerKilledMidPipeline_IsRecoveredByTheOther_AndItsRunIsMarkedInterrupted()
    {
        _cairn.WriteFile("seed.txt", "1");
        var pipeline = _cairn.WriteFile("slow.yaml", """
            name: slow
            steps:
            - {name: first, run: [sh, -c, "cp seed.txt first.txt"], inputs: ["file:seed.txt"], outputs: ["file:first.txt"]}
            - {name: second, run: [sh, -c, "sleep 6 && cp first.txt second.txt"], inputs: ["file:first.txt"], outputs: ["file:second.txt"]}
            """);
        await _cairn.RunOkAsync("pipelines", "schedule", pipeline, "--cron", "* * * * * ?", "--name", "slow-every-second");
        var workers = new[] { StartWorker(), StartWorker() };

        // The worker that took the firing is named in its run's cairn.process tag (host:pid).
        string? runId = null;
        var owner = "";
        for (var i = 0; i < 600 && runId is null; i++)
        {
            await Task.Delay(100);
            var running = (await _cairn.RunOkAsync("pipelines", "list", "--json")).Json.EnumerateArray()
                .FirstOrDefault(r => r.GetProperty("status").GetString() == "running" && r.GetProperty("tags").TryGetProperty(Core.LocalProcess.Tag, out _));
            if (running.ValueKind != System.Text.Json.JsonValueKind.Undefined)
            {
                (runId, owner) = (running.GetProperty("id").GetString(), running.GetProperty("tags").GetProperty(Core.LocalProcess.Tag).GetString()!);
            }
        }

        Assert.True(runId is not null, "no worker started the scheduled pipeline");
        var victim = workers.SingleOrDefault(w => owner.EndsWith($":{w.Id}", StringComparison.Ordinal));
        Assert.True(victim is not null, $"the running pipeline names {owner}, neither worker ({string.Join(", ", workers.Select(w => w.Id))})");
        var killed = Stopwatch.StartNew();
        victim.Kill(entireProcessTree: true);
        await victim.WaitForExitAsync();

        // The other worker notices the silence, ends the dead worker's run and finishes the pipeline from its cache.
        System.Text.Json.JsonElement finished = default;
        for (var i = 0; i < 900 && finished.ValueKind == System.Text.Json.JsonValueKind.Undefined; i++)
        {
            await Task.Delay(100);
            finished = (await _cairn.RunOkAsync("pipelines", "list", "--json")).Json.EnumerateArray()
                .FirstOrDefault(r => r.GetProperty("status").GetString() == "finished");
        }

        Assert.True(finished.ValueKind != System.Text.Json.JsonValueKind.Undefined, "no worker finished the pipeline after the kill");
        output.WriteLine($"worker killed: the other finished the pipeline {killed.ElapsedMilliseconds} ms later");
        Assert.NotEqual(owner, finished.GetProperty("tags").GetProperty(Core.LocalProcess.Tag).GetString());
        Assert.True(File.Exists(Path.Combine(_cairn.WorkingDirectory, "second.txt")), "the finished pipeline wrote no second.txt");
        var dead = (await _cairn.RunOkAsync("runs", "show", runId!, "--json")).Json;
        Assert.True(dead.GetProperty("status").GetString() == "failed", dead.ToString());
        Assert.True(dead.GetProperty("tags").TryGetProperty("cairn.interrupted", out _), dead.ToString());
        await _cairn.RunOkAsync("pipelines", "unschedule", "slow-every-second");
    }

    [Fact]
    public async Task AWorkerKilledMidJob_LeavesItToTheOther_AndTheSubmitterSeesItFinish()
    {
        await _cairn.RunOkAsync("users", "create", "ana", "--no-token", "--role", "editor");
        var token = (await _cairn.RunOkAsync("tokens", "create", "--user", "ana", "--name", "laptop", "--json")).Json.GetProperty("secret").GetString()!;
        var server = Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "cairn.dll"), "--home", _cairn.Home, "serve",
            "--port", CairnHarness.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--grpc-port", "0", "--no-ui"]);
        var address = await CairnHarness.ReadServerAddressAsync(server);
        var workers = new[] { StartWorker(), StartWorker() };

        // A laptop with nothing but the server's address and a token: no store, no bucket credentials.
        await using var laptop = new CairnHarness();
        laptop.Environment[RemoteServer.ServerEnvironmentVariable] = address.ToString();
        laptop.Environment[RemoteServer.TokenEnvironmentVariable] = token;
        var pipeline = laptop.WriteFile("slow/pipeline.yaml", "name: slow\nsteps:\n- {name: wait, run: [sleep, \"8\"]}\n");
        var following = laptop.RunAsync("pipelines", "run", pipeline, "--remote");

        var owner = "";
        for (var i = 0; i < 600 && owner.Length == 0; i++)
        {
            await Task.Delay(100);
            // Killed once its pipeline's step is under way, not while the worker still unpacks the job.
            var jobs = (await laptop.RunOkAsync("jobs", "list", "--json")).Json;
            owner = jobs.GetArrayLength() > 0 && jobs[0].GetProperty("status").GetString() == "running"
                && (await laptop.RunOkAsync("jobs", "logs", jobs[0].GetProperty("id").GetString()!)).Output.Contains("wait: running", StringComparison.Ordinal)
                ? jobs[0].GetProperty("worker").GetString()! : "";
        }

        var victim = workers.Single(w => owner.EndsWith($":{w.Id}", StringComparison.Ordinal));
        var killed = Stopwatch.StartNew();
        victim.Kill(entireProcessTree: true);
        await victim.WaitForExitAsync();

        var result = await following.WaitAsync(TimeSpan.FromMinutes(2));
        output.WriteLine($"job worker killed: the other finished it {killed.ElapsedMilliseconds} ms later");
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Contains("starts it again", result.Output, StringComparison.Ordinal);
        var job = (await laptop.RunOkAsync("jobs", "list", "--json")).Json[0];
        Assert.Equal(2, job.GetProperty("attempts").GetInt32());
        Assert.NotEqual(owner, job.GetProperty("worker").GetString());
        Assert.Equal("ana/laptop", $"{job.GetProperty("submitted_by").GetString()}/{job.GetProperty("token").GetString()}");

        // The dead worker's pipeline run is ended as interrupted; the one that finished is the job's.
        var runs = (await _cairn.RunOkAsync("pipelines", "list", "--json")).Json.EnumerateArray().ToList();
        Assert.Contains(runs, r => r.GetProperty("status").GetString() == "failed" && r.GetProperty("tags").TryGetProperty("cairn.interrupted", out _));
        Assert.Equal(job.GetProperty("run_id").GetString(), runs.Single(r => r.GetProperty("status").GetString() == "finished").GetProperty("id").GetString());
    }

    private Process StartWorker() =>
        Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "cairn.dll"), "--home", _cairn.Home, "pipelines", "worker"]);

    private HttpClient Client(Uri address)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return client;
    }

    private static async Task<string> ServedVersionAsync(HttpClient client)
    {
        using var response = await client.PostAsync("api/deployments/iris/predict", new StringContent(Body, System.Text.Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.Headers.GetValues(Server.InferenceEndpoints.ModelVersionHeader).Single();
    }

    // Eight clients scoring through the proxy as fast as they can; every answer other than 200 is a failure.
    private static async Task<(int Answered, List<string> Failed)> LoadAsync(HttpClient client, CancellationToken stop)
    {
        var answered = 0;
        var failed = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await client.PostAsync("api/deployments/iris/predict", new StringContent(Body, System.Text.Encoding.UTF8, "application/json"), CancellationToken.None);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref answered);
                    }
                    else
                    {
                        var text = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}";
                        lock (failed)
                        {
                            failed.Add(text);
                        }
                    }
                }
                catch (HttpRequestException e)
                {
                    lock (failed)
                    {
                        failed.Add(e.Message);
                    }
                }
            }
        }));
        return (answered, failed);
    }

    private async Task<Process> StartReplicaAsync(int port)
    {
        var replica = Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "cairn.dll"), "--home", _cairn.Home, "serve", "--deployment", "iris",
            "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--grpc-port", "0", "--no-monitoring"]);
        await CairnHarness.ReadServerAddressAsync(replica);
        return replica;
    }

    private async Task<Uri> StartNginxAsync(int[] upstreams)
    {
        var folder = Path.Combine(_cairn.WorkingDirectory, "nginx");
        Directory.CreateDirectory(folder);
        var port = CairnHarness.FreePort();
        var servers = string.Concat(upstreams.Select(p => $"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n"));
        // POSTs are retried on the next replica too (non_idempotent): scoring changes nothing but the prediction log.
        await File.WriteAllTextAsync(Path.Combine(folder, "nginx.conf"), $$"""
            worker_processes 1;
            error_log {{folder}}/error.log warn;
            pid {{folder}}/nginx.pid;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path {{folder}}/body;
                proxy_temp_path {{folder}}/proxy;
                fastcgi_temp_path {{folder}}/fastcgi;
                uwsgi_temp_path {{folder}}/uwsgi;
                scgi_temp_path {{folder}}/scgi;
                upstream cairn {
            {{servers}}        keepalive 16;
                }
                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        proxy_pass http://cairn;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host;
                        proxy_connect_timeout 1s;
                        proxy_next_upstream error timeout http_502 http_503 non_idempotent;
                        proxy_next_upstream_tries 3;
                    }
                }
            }
            """);
        var nginx = File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
        Start(nginx, ["-p", folder, "-c", Path.Combine(folder, "nginx.conf"), "-g", "daemon off;"]);
        var address = new Uri($"http://127.0.0.1:{port}/");
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return address;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException($"nginx did not start: {File.ReadAllText(Path.Combine(folder, "error.log"))}");
    }

    private Process Start(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = _cairn.WorkingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in Environment())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        _processes.Add(process);
        return process;
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cairn.Server;

namespace Cairn.Cli.Tests;

/// <summary>
/// What a page on another site, a DNS-rebinding attacker or a hostile client can do to a running server: nothing.
/// Bodies a browser sends without asking first never change anything; other origins and host names are refused;
/// filters built to exhaust the stack or the database are refused with the limit they break.
/// </summary>
public sealed class RequestSafetyTests : ServerTest
{
    private static readonly string[] SimpleTypes = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"];

    private static readonly string[] StateChangingPosts =
    [
        .. FuzzTests.PostEndpoints,
        "/api/2.0/mlflow/registered-models/alias", "/api/deployments/any/feedback", "/api/models/any/predict", "/api/deployments/any/invocations",
        "/v2/models/any/infer",
    ];

    private async Task<string> StateAsync()
    {
        var (_, experiments) = await Server.GetJsonAsync("/api/experiments?includeDeleted=true");
        var (_, runs) = await Server.PostJsonAsync("/api/runs/search", """{"include_deleted": true}""");
        var (_, models) = await Server.GetJsonAsync("/api/2.0/mlflow/registered-models/search");
        var (_, datasets) = await Server.GetJsonAsync("/api/datasets/");
        return string.Join("\n", experiments, runs, models, datasets);
    }

    [Fact]
    public async Task BodiesABrowserSendsWithoutAPreflight_Are415_OnEveryStateChangingPost_AndChangeNothing()
    {
        var (_, run) = await Server.PostJsonAsync("/api/runs", "{}");
        var runId = run.GetProperty("id").GetString()!;
        var before = await StateAsync();
        var failures = new List<string>();
        foreach (var endpoint in StateChangingPosts.Select(e => e.Replace("{run}", runId, StringComparison.Ordinal)))
        {
            foreach (var type in SimpleTypes.Append(null))
            {
                // What a cross-site form or fetch would send: a JSON-looking body under a type that skips CORS.
                using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"name": "evil", "experiment_id": "0", "run_id": "x", "alias": "champion", "version": "1"}"""));
                if (type is not null)
                {
                    content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
                }

                using var response = await Server.PostAsync(endpoint, content);
                if ((int)response.StatusCode != 415)
                {
                    failures.Add($"POST {endpoint} as {type ?? "no type"} -> {(int)response.StatusCode}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task MlflowJsonEndpoints_NameTheContentTypeTheyNeed()
    {
        using var content = new StringContent("""{"name": "m"}""", Encoding.UTF8, "text/plain");
        using var response = await Server.PostAsync("/api/2.0/mlflow/registered-models/create", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("application/json", await response.Content.ReadAsStringAsync());
        var (status, _) = await Server.GetJsonAsync("/api/2.0/mlflow/registered-models/get?name=m");
        Assert.Equal(404, status);
    }

    [Fact]
    public async Task RequestsFromAnotherOrigin_AreRefused_WhileSameOriginAndCliClientsWork()
    {
        async Task<int> CreateAsync(string name, string? origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/experiments")
            {
                Content = new StringContent($$"""{"name": "{{name}}"}""", Encoding.UTF8, "application/json"),
            };
            if (origin is not null)
            {
                request.Headers.Add("Origin", origin);
            }

            using var response = await Server.SendAsync(request);
            return (int)response.StatusCode;
        }

        Assert.Equal(403, await CreateAsync("from-evil", "https://evil.example"));
        Assert.Equal(403, await CreateAsync("from-null", "null"));
        Assert.Equal(201, await CreateAsync("same-origin", $"http://{Server.BaseAddress!.Authority}"));
        Assert.Equal(201, await CreateAsync("no-origin", null));
        var (_, found) = await Server.GetJsonAsync("/api/experiments?filter=" + Uri.EscapeDataString("name LIKE 'from-%'"));
        Assert.Equal(0, found.GetProperty("experiments").GetArrayLength());
    }

    [Fact]
    public async Task AnAllowedOrigin_PassesCorsPreflight_AndOthersGetNoCorsHeaders()
    {
        using var server = await Cairn.StartServerAsync(options: new CairnServerOptions { CorsOrigins = ["https://notebooks.example"] });
        async Task<HttpResponseMessage> PreflightAsync(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "/api/experiments");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "content-type");
            return await server.SendAsync(request);
        }

        using var allowed = await PreflightAsync("https://notebooks.example");
        using var other = await PreflightAsync("https://evil.example");
        using var post = new HttpRequestMessage(HttpMethod.Post, "/api/experiments") { Content = new StringContent("""{"name": "from-notebook"}""", Encoding.UTF8, "application/json") };
        post.Headers.Add("Origin", "https://notebooks.example");
        using var created = await server.SendAsync(post);

        Assert.Equal("https://notebooks.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task AHostNameOtherThanLoopback_IsRefused_SoDnsRebindingReadsNothing()
    {
        foreach (var (host, expected) in new[] { ("evil.example", 400), ("127.0.0.1.evil.example", 400), ("localhost", 200), ("[::1]", 200) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/experiments");
            request.Headers.Host = $"{host}:{Server.BaseAddress!.Port}";
            using var response = await Server.SendAsync(request);

            Assert.True(expected == (int)response.StatusCode, $"Host {host}: {(int)response.StatusCode}");
        }
    }

    [Theory]
    [InlineData("/api/2.0/mlflow/runs/search", "filter", "nest deeper than the limit of 20")]
    [InlineData("/api/runs/search", "filter", "nest deeper than the limit of 20")]
    [InlineData("/api/2.0/mlflow/experiments/search", "filter", "nest deeper than the limit of 20")]
    public async Task FiltersNested100000Deep_Are400_AndTheServerLives(string path, string field, string message)
    {
        var filter = new string('(', 100_000) + "tags.a = 'b'" + new string(')', 100_000);

        var (status, body) = await Server.PostJsonAsync(path, JsonSerializer.Serialize(new Dictionary<string, object> { [field] = filter, ["experiment_ids"] = new[] { "0" } }));

        Assert.Equal(400, status);
        Assert.Contains(message, body.ToString());
        Assert.Equal(200, (await Server.GetJsonAsync("/v2/health/live")).Status);
    }

    [Fact]
    public async Task FiltersOfTenThousandTerms_AndInListsOfAHundredThousandValues_Are400()
    {
        var terms = string.Join(" AND ", Enumerable.Range(0, 10_000).Select(i => $"tags.t{i} = 'x'"));
        var values = "params.p IN (" + string.Join(",", Enumerable.Range(0, 100_000).Select(i => $"'{i}'")) + ")";
        var smallValues = "params.p IN (" + string.Join(",", Enumerable.Range(0, 10_001).Select(i => $"'{i}'")) + ")";
        var manyTerms = string.Join(" OR ", Enumerable.Range(0, 201).Select(i => $"tags.t{i} = 'x'"));

        foreach (var (filter, message) in new[] { (terms, "limit of 200 comparisons"), (values, "limit is 500,000"), (smallValues, "limit of 10,000 values"), (manyTerms, "limit of 200 comparisons") })
        {
            var (status, body) = await Server.PostJsonAsync("/api/2.0/mlflow/runs/search",
                JsonSerializer.Serialize(new Dictionary<string, object> { ["filter"] = filter, ["experiment_ids"] = new[] { "0" } }));

            Assert.Equal(400, status);
            Assert.Contains(message, body.GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task JsonNestedBeyondItsDepthLimit_Is400()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);

        var (status, _) = await Server.PostJsonAsync("/api/2.0/mlflow/runs/search", $$"""{"experiment_ids": {{deep}}}""");
        var (inferStatus, _) = await Server.PostJsonAsync("/v2/models/any/infer", deep);

        Assert.Equal(400, status);
        Assert.True(inferStatus is 400 or 404, $"infer answered {inferStatus}");
    }
    [Theory]
    [InlineData("/api/datasets/bad%20name/versions?file=x.csv", 400, "dataset name")]
    [InlineData("/api/datasets/big/versions?file=x.csv", 413, "at most 1,073,741,824")]
    [InlineData("/api/datasets/big/versions?tag=novalue", 400, "not KEY=VALUE")]
    public async Task Uploads_AreCheckedBeforeTheirBodyIsRead(string path, int status, string message)
    {
        // Headers that announce 10 GiB, and no body at all: only an answer given before reading the body can arrive.
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, Server.BaseAddress!.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: {10L << 30}\r\n\r\n"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[8192];
        var answer = new StringBuilder();
        while (!answer.ToString().Contains("\r\n\r\n{", StringComparison.Ordinal) || !answer.ToString().TrimEnd().EndsWith('}'))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }

            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        Assert.StartsWith($"HTTP/1.1 {status} ", answer.ToString(), StringComparison.Ordinal);
        Assert.Contains(message, answer.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A300MegabyteCsvWithNoLineBreak_IsRefusedAtTheRecordLimit_AndLeavesNothing()
    {
        using var content = new RepeatedContent("a,b\n1,", 'x', 300L << 20) { Headers = { ContentType = new MediaTypeHeaderValue("text/csv") } };

        using var response = await Server.PostAsync("/api/datasets/one-line/versions?file=x.csv", content);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("longer than the limit of 4 MiB", await response.Content.ReadAsStringAsync());
        Assert.Equal(404, (await Server.GetJsonAsync("/api/datasets/one-line/versions/1")).Status);
    }

    [Fact]
    public async Task AParquetUploadWhoseSchemaNests10000Deep_Is400_AndTheServerLives()
    {
        // 119 KB: Parquet.Net alone would overflow the stack building this schema, ending the process.
        var deep = DeepParquet(10_000);
        using var content = new ByteArrayContent(deep) { Headers = { ContentType = new MediaTypeHeaderValue("application/vnd.apache.parquet") } };

        using var response = await Server.PostAsync("/api/datasets/deep/versions?file=deep.parquet", content);
        var file = Path.Combine(Cairn.WorkingDirectory, "deep.parquet");
        await File.WriteAllBytesAsync(file, deep);
        var cli = await Cairn.RunAsync("datasets", "add", file, "--name", "deep");

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("schema nests groups deeper than 32 levels", await response.Content.ReadAsStringAsync());
        Assert.Equal(200, (await Server.GetJsonAsync("/v2/health/live")).Status);
        Assert.Equal(2, cli.ExitCode);
    }

    // A Parquet file with no rows whose schema is a chain of groups: its footer written by hand in Thrift's compact protocol.
    private static byte[] DeepParquet(int depth)
    {
        static void Varint(List<byte> to, ulong n)
        {
            for (; n >= 0x80; n >>= 7)
            {
                to.Add((byte)(n | 0x80));
            }

            to.Add((byte)n);
        }

        static void ZigZag(List<byte> to, long n) => Varint(to, (ulong)((n << 1) ^ (n >> 63)));

        static void Element(List<byte> to, string name, int? children)
        {
            to.Add((3 << 4) | 5); // field 3, repetition_type: i32
            ZigZag(to, children is null ? 1 : 0);
            to.Add((1 << 4) | 8); // field 4, name: binary
            Varint(to, (ulong)name.Length);
            to.AddRange(Encoding.ASCII.GetBytes(name));
            if (children is { } count)
            {
                to.Add((1 << 4) | 5); // field 5, num_children: i32
                ZigZag(to, count);
            }

            to.Add(0);
        }

        var meta = new List<byte> { (1 << 4) | 5 };
        ZigZag(meta, 1); // version
        meta.Add((1 << 4) | 9); // field 2, schema: list
        meta.Add(0xf0 | 12);
        Varint(meta, (ulong)(depth + 2));
        Element(meta, "schema", 1);
        for (var i = 0; i < depth; i++)
        {
            Element(meta, $"s{i}", 1);
        }

        Element(meta, "leaf", null);
        meta.Add((1 << 4) | 6); // field 3, num_rows: i64
        ZigZag(meta, 0);
        meta.Add((1 << 4) | 9); // field 4, row_groups: empty list
        meta.Add(12);
        meta.Add(0);
        return [.. "PAR1"u8, .. meta, .. BitConverter.GetBytes(meta.Count), .. "PAR1"u8];
    }

    // A prefix, then one character repeated to the given total length, generated as it is sent.
    private sealed class RepeatedContent(string prefix, char fill, long length) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var head = Encoding.UTF8.GetBytes(prefix);
            await stream.WriteAsync(head);
            var chunk = Enumerable.Repeat((byte)fill, 1 << 20).ToArray();
            for (var sent = (long)head.Length; sent < length; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, length - sent)));
            }
        }

        protected override bool TryComputeLength(out long computed)
        {
            computed = length;
            return true;
        }
    }
}

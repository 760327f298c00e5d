using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cairn.Server;
using Cairn.Server.Grpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cairn.Cli.Tests;

/// <summary>
/// A server with authentication on: who may do what, through the native API, the MLflow API and gRPC, with the
/// accounts, tokens and grants made by the CLI on the machine that holds the store.
/// </summary>
public sealed class AccessTests(AdultModelFixture fixture) : IClassFixture<AdultModelFixture>, IAsyncLifetime
{
    private HttpClient _server = null!;
    private GrpcChannel _channel = null!;
    private string _admin = "";

    private CairnHarness Cairn => fixture.Harness;

    public async Task InitializeAsync()
    {
        _server = await Cairn.StartServerAsync(options: new CairnServerOptions { Authentication = true, GrpcPort = 0 });
        _channel = GrpcChannel.ForAddress(Cairn.GrpcAddress!);
        _admin = await AccountAsync($"admin-{Guid.NewGuid():N}"[..14], "--admin");
    }

    public Task DisposeAsync()
    {
        _channel.Dispose();
        _server.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task EveryRequest_NeedsCredentials_ButLivenessAndReadiness()
    {
        using var anonymous = await SendAsync(HttpMethod.Get, "/api/experiments", null, null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("Bearer", anonymous.Headers.WwwAuthenticate.ToString());
        Assert.Equal("unauthenticated", Json(await anonymous.Content.ReadAsStringAsync()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _server.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.GetAsync("/v2/health/ready")).StatusCode);

        // A mistyped token fails its checksum before any lookup; a well-formed stranger is unknown; neither echoes the secret.
        var mistyped = _admin[..^1] + (_admin[^1] == 'a' ? 'b' : 'a');
        var (status, body) = await CallAsync(HttpMethod.Get, "/api/experiments", null, mistyped);
        Assert.Equal(401, status);
        Assert.Contains("checksum", body);
        Assert.DoesNotContain(mistyped[6..], body);
        (status, body) = await CallAsync(HttpMethod.Get, "/api/experiments", null, Core.Identity.TokenSecret.Generate());
        Assert.Equal(401, status);
        Assert.Contains("not known", body);
        (status, _) = await CallAsync(HttpMethod.Get, "/api/experiments", null, _admin);
        Assert.Equal(200, status);

        // MLflow clients get MLflow's error shape; gRPC clients a gRPC status, with health still open.
        (status, body) = await CallAsync(HttpMethod.Get, "/api/2.0/mlflow/registered-models/search", null, null);
        Assert.Equal(401, status);
        Assert.Equal("UNAUTHENTICATED", Json(body).GetProperty("error_code").GetString());
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
        Assert.True((await client.ServerLiveAsync(new ServerLiveRequest())).Live);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(GrpcTests.TwoRows(raw: false)));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task APredictToken_Scores_OnEverySurface_AndCanDoNothingElse()
    {
        var deployment = $"d{Guid.NewGuid():N}"[..12];
        await Cairn.RunOkAsync("deploy", deployment, "--model", $"{AdultModelFixture.Model}@champion");
        var scorer = await AccountAsync($"scorer-{Guid.NewGuid():N}"[..15], "--service", "--role", "none");
        var name = await NameOfAsync(scorer);
        await Cairn.RunOkAsync("grants", "set", name, "predict", "--on", $"deployment:{deployment}");
        var token = await TokenAsync(name, "scoring", "predict");

        // The server picks the new deployment up within its refresh interval.
        await Eventually(async () => (await CallAsync(HttpMethod.Post, $"/api/deployments/{deployment}/predict", AdultModelFixture.TwoRows, token)).Status == 200);
        var (status, body) = await CallAsync(HttpMethod.Post, $"/v2/models/{deployment}/infer", AdultModelFixture.TwoRowsAsOpenInference(), token);
        Assert.True(status == 200, body);
        var request = GrpcTests.TwoRows(raw: false);
        request.ModelName = deployment;
        var grpc = await new GRPCInferenceService.GRPCInferenceServiceClient(_channel).ModelInferAsync(request, Bearer(token));
        Assert.Equal(2, grpc.Outputs.Single(o => o.Name == "probability").Shape[0]);

        // Nothing but scoring that deployment: not the model by name, not the registry, not a list (empty, not an error).
        (status, _) = await CallAsync(HttpMethod.Post, $"/api/models/{AdultModelFixture.Model}/predict", AdultModelFixture.TwoRows, token);
        Assert.Equal(403, status);
        (status, body) = await CallAsync(HttpMethod.Get, $"/api/2.0/mlflow/registered-models/get?name={AdultModelFixture.Model}", null, token);
        Assert.Equal(403, status);
        Assert.Equal("PERMISSION_DENIED", Json(body).GetProperty("error_code").GetString());
        (status, body) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/registered-models/alias",
            $$"""{"name": "{{AdultModelFixture.Model}}", "alias": "champion", "version": "1"}""", token);
        Assert.Equal(403, status);
        (status, body) = await CallAsync(HttpMethod.Get, "/api/deployments", null, token);
        Assert.Equal(200, status);
        Assert.Equal(0, Served(body));
        Assert.Equal(200, (await CallAsync(HttpMethod.Get, "/api/experiments", null, token)).Status);
        Assert.Equal(403, (await CallAsync(HttpMethod.Post, $"/api/deployments/{deployment}/feedback", """{"labels": []}""", token)).Status);

        // Reading takes viewer: granted, a token without the predict cap sees the deployment; the predict token still does not.
        var wide = await TokenAsync(name, "wide", "all");
        Assert.Equal(0, Served((await CallAsync(HttpMethod.Get, "/api/deployments", null, wide)).Body));
        await Cairn.RunOkAsync("grants", "set", name, "viewer", "--on", $"deployment:{deployment}");
        await Eventually(async () => Served((await CallAsync(HttpMethod.Get, "/api/deployments", null, wide)).Body) == 1);
        Assert.Equal(0, Served((await CallAsync(HttpMethod.Get, "/api/deployments", null, token)).Body));
    }

    [Fact]
    public async Task RolesOnAModel_DecideWhoReads_WhoMovesAliases_AndWhoDeletes_AndEachChangeNamesItsAuthor()
    {
        var model = $"m{Guid.NewGuid():N}"[..12];
        Assert.Equal(200, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/registered-models/create", $$"""{"name": "{{model}}"}""", _admin)).Status);
        foreach (var _ in Enumerable.Range(0, 2))
        {
            Assert.Equal(200, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/model-versions/create", $$"""{"name": "{{model}}", "source": "s3://bucket/m"}""", _admin)).Status);
        }

        Assert.Equal(200, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/registered-models/alias", $$"""{"name": "{{model}}", "alias": "champion", "version": "1"}""", _admin)).Status);
        var outsider = await AccountAsync($"out-{Guid.NewGuid():N}"[..12], "--role", "none");
        var viewer = await AccountAsync($"view-{Guid.NewGuid():N}"[..13], "--role", "none");
        var editor = await AccountAsync($"edit-{Guid.NewGuid():N}"[..13], "--role", "none");
        await Cairn.RunOkAsync("grants", "set", await NameOfAsync(viewer), "viewer", "--on", $"model:{model}");
        await Cairn.RunOkAsync("grants", "set", await NameOfAsync(editor), "editor", "--on", $"model:{model}");
        var move = $$"""{"name": "{{model}}", "alias": "champion", "version": "2"}""";

        Assert.Equal(403, (await CallAsync(HttpMethod.Get, $"/api/2.0/mlflow/registered-models/get?name={model}", null, outsider)).Status);
        Assert.Equal(200, (await CallAsync(HttpMethod.Get, $"/api/2.0/mlflow/registered-models/get?name={model}", null, viewer)).Status);
        var (status, body) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/registered-models/alias", move, viewer);
        Assert.Equal(403, status);
        Assert.Contains("move aliases", body);
        Assert.Equal("1", await AliasAsync(model));
        Assert.Equal(200, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/registered-models/alias", move, editor)).Status);
        Assert.Equal("2", await AliasAsync(model));
        Assert.Equal(403, (await CallAsync(HttpMethod.Delete, "/api/2.0/mlflow/registered-models/delete", $$"""{"name": "{{model}}"}""", editor)).Status);

        // A model can leave moving its aliases by hand to maintainers; an editor can neither move them then nor lift the restriction.
        var restrict = $$"""{"name": "{{model}}", "key": "cairn.alias_moves", "value": "maintainer"}""";
        Assert.Equal(403, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/registered-models/set-tag", restrict, editor)).Status);
        Assert.Equal(200, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/registered-models/set-tag", restrict, _admin)).Status);
        (status, body) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/registered-models/alias",
            $$"""{"name": "{{model}}", "alias": "champion", "version": "1"}""", editor);
        Assert.Equal(403, status);
        Assert.Contains("cairn.alias_moves=maintainer", body);
        Assert.Equal("2", await AliasAsync(model));
        Assert.Equal(403, (await CallAsync(HttpMethod.Delete, "/api/2.0/mlflow/registered-models/delete-tag",
            $$"""{"name": "{{model}}", "key": "cairn.alias_moves"}""", editor)).Status);

        // The audit log names the user and the token that moved the alias, and can be read per user.
        var events = (await Cairn.RunOkAsync("events", "--user", await NameOfAsync(editor), "--json")).Json;
        var moved = Assert.Single(events.EnumerateArray(), e => e.GetProperty("kind").GetString()!.Contains("alias", StringComparison.Ordinal));
        Assert.Equal($"{await NameOfAsync(editor)}/initial", moved.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Datasets_AreReadByViewers_AndUploadsAreRefusedBeforeTheBodyIsRead()
    {
        var reader = await AccountAsync($"dr-{Guid.NewGuid():N}"[..11], "--role", "none");
        await Cairn.RunOkAsync("grants", "set", await NameOfAsync(reader), "viewer", "--on", "dataset:adult");

        Assert.Equal(200, (await CallAsync(HttpMethod.Get, "/api/datasets/adult/versions/1", null, reader)).Status);
        var (status, body) = await CallAsync(HttpMethod.Get, "/api/datasets/", null, reader);
        Assert.Equal(["adult"], Json(body).EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        Assert.Equal(403, (await CallAsync(HttpMethod.Get, "/api/datasets/nothing-granted/versions", null, reader)).Status);

        // A viewer's upload is refused from its headers: a declared gigabyte is never read.
        using var upload = new HttpRequestMessage(HttpMethod.Post, "/api/datasets/adult/versions?file=more.csv")
        {
            Content = new StreamContent(new MemoryStream(new byte[16])),
        };
        upload.Content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        upload.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader);
        using var refused = await _server.SendAsync(upload);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("add versions", await refused.Content.ReadAsStringAsync());
        (status, body) = await CallAsync(HttpMethod.Get, "/api/datasets/adult/versions", null, reader);
        Assert.Equal(1, Json(body).GetArrayLength());
    }

    [Fact]
    public async Task WhoeverCreatesAnExperiment_MaintainsIt_AndOtherEditorsCannotDeleteIt()
    {
        var owner = await AccountAsync($"own-{Guid.NewGuid():N}"[..12], "--role", "editor");
        var other = await AccountAsync($"oth-{Guid.NewGuid():N}"[..12], "--role", "editor");
        var (status, body) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/experiments/create", $$"""{"name": "exp-{{Guid.NewGuid():N}}"}""", owner);
        Assert.True(status == 200, body);
        var id = Json(body).GetProperty("experiment_id").GetString();

        var (runStatus, run) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/runs/create", $$"""{"experiment_id": "{{id}}"}""", owner);
        Assert.True(runStatus == 200, run);
        Assert.Equal(403, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/experiments/delete", $$"""{"experiment_id": "{{id}}"}""", other)).Status);
        Assert.Equal(200, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/experiments/delete", $$"""{"experiment_id": "{{id}}"}""", owner)).Status);
    }

    [Fact]
    public async Task Searches_AreFilteredInTheQuery_SoAPageOfTenIsTenVisibleRows()
    {
        var reader = await AccountAsync($"rd-{Guid.NewGuid():N}"[..11], "--role", "none");
        var readerName = await NameOfAsync(reader);
        var prefix = $"s{Guid.NewGuid():N}"[..9];
        var all = new List<string>();
        var visible = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var (_, created) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/experiments/create", $$"""{"name": "{{prefix}}-{{i}}"}""", _admin);
            var id = Json(created).GetProperty("experiment_id").GetString()!;
            all.Add(id);
            Assert.Equal(200, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/runs/create", $$"""{"experiment_id": "{{id}}"}""", _admin)).Status);
            if (i % 3 == 0)
            {
                visible.Add(id);
                await Cairn.RunOkAsync("grants", "set", readerName, "viewer", "--on", $"experiment:{id}");
            }
        }

        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = Json((await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/experiments/search",
                $$"""{"max_results": 4, "filter": "name LIKE '{{prefix}}-%'"{{(token is null ? "" : $", \"page_token\": \"{token}\"")}}}""", reader)).Body);
            var ids = page.TryGetProperty("experiments", out var experiments) ? experiments.EnumerateArray().Select(e => e.GetProperty("experiment_id").GetString()!).ToList() : [];
            token = page.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
            Assert.True(token is null || ids.Count == 4, "a page that is not the last is full");
            seen.AddRange(ids);
        }
        while (token is not null);

        Assert.Equal(visible.Order(), seen.Order());
        var runs = Json((await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/runs/search",
            JsonSerializer.Serialize(new { experiment_ids = all, max_results = 10 }), reader)).Body);
        Assert.Equal(visible.Order(), runs.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("experiment_id").GetString()).Order());
    }

    [Fact]
    public async Task RevokedExpiredAndDisabled_Credentials_AreRefused_NamingWhich()
    {
        var user = await AccountAsync($"rv-{Guid.NewGuid():N}"[..11], "--role", "viewer");
        var name = await NameOfAsync(user);
        Assert.Equal(200, (await CallAsync(HttpMethod.Get, "/api/experiments", null, user)).Status);
        await Cairn.RunOkAsync("tokens", "revoke", "initial", "--user", name);
        await Eventually(async () => (await CallAsync(HttpMethod.Get, "/api/experiments", null, user)).Body.Contains("revoked", StringComparison.Ordinal));

        var brief = await TokenAsync(name, "brief", "read", "1s");
        await Eventually(async () => (await CallAsync(HttpMethod.Get, "/api/experiments", null, brief)).Body.Contains("expired", StringComparison.Ordinal));

        var fresh = await TokenAsync(name, "fresh", "read");
        Assert.Equal(200, (await CallAsync(HttpMethod.Get, "/api/experiments", null, fresh)).Status);
        await Cairn.RunOkAsync("users", "disable", name);
        await Eventually(async () => (await CallAsync(HttpMethod.Get, "/api/experiments", null, fresh)).Body.Contains("disabled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tokens_AreStoredOnlyAsTheirHash()
    {
        var user = await AccountAsync($"hs-{Guid.NewGuid():N}"[..11], "--role", "viewer");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var database = Directory.GetFiles(Cairn.Home, "*.db", SearchOption.AllDirectories).Where(f => !f.Contains("hash", StringComparison.OrdinalIgnoreCase));
        var bytes = database.SelectMany(f => File.ReadAllBytes(f).Concat(File.Exists(f + "-wal") ? File.ReadAllBytes(f + "-wal") : [])).ToArray();
        var text = Encoding.ASCII.GetString(bytes);

        Assert.DoesNotContain(user, text);
        Assert.Contains(Core.Identity.TokenSecret.Hash(user), text);
    }

    [Fact]
    public async Task FailedSignIns_AreThrottled_PerUser()
    {
        var user = await AccountAsync($"pw-{Guid.NewGuid():N}"[..11], "--role", "viewer");
        var name = await NameOfAsync(user);
        var previousIn = Console.In;
        try
        {
            Console.SetIn(new StringReader("correct horse battery staple\n"));
            await Cairn.RunOkAsync("users", "passwd", name);
        }
        finally
        {
            Console.SetIn(previousIn);
        }

        Assert.Equal(200, (await BasicAsync(name, "correct horse battery staple")).Status);
        for (var i = 0; i < Application.Identity.Authenticator.MaxFailures; i++)
        {
            Assert.Equal(401, (await BasicAsync(name, $"wrong {i}")).Status);
        }

        var (status, body) = await BasicAsync(name, "correct horse battery staple");
        Assert.Equal(429, status);
        Assert.Contains("Too many failed sign-ins", body);
        // A token still works: throttling guards passwords, and tokens are not guessable.
        Assert.Equal(200, (await CallAsync(HttpMethod.Get, "/api/experiments", null, user)).Status);
    }

    [Fact]
    public async Task MlflowsAuthApi_ManagesUsersAndPermissions_InMlflowsShapes()
    {
        var user = $"ml-{Guid.NewGuid():N}"[..11];
        var (status, body) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/users/create", $$"""{"username": "{{user}}", "password": "a long enough password"}""", _admin);
        Assert.True(status == 200, body);
        Assert.Equal(user, Json(body).GetProperty("user").GetProperty("username").GetString());
        Assert.False(Json(body).GetProperty("user").GetProperty("is_admin").GetBoolean());
        Assert.Equal(200, (await BasicAsync(user, "a long enough password")).Status);

        var (_, created) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/experiments/create", $$"""{"name": "perm-{{Guid.NewGuid():N}}"}""", _admin);
        var experiment = Json(created).GetProperty("experiment_id").GetString();
        var permission = $$"""{"experiment_id": "{{experiment}}", "username": "{{user}}", "permission": "EDIT"}""";
        (status, body) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/experiments/permissions/create", permission, _admin);
        Assert.True(status == 200, body);
        var granted = Json(body).GetProperty("experiment_permission");
        Assert.Equal((experiment, "EDIT"), (granted.GetProperty("experiment_id").GetString(), granted.GetProperty("permission").GetString()));
        (status, body) = await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/experiments/permissions/create", permission, _admin);
        Assert.Equal((400, "RESOURCE_ALREADY_EXISTS"), (status, Json(body).GetProperty("error_code").GetString()));

        // The user signs in with the password, as MLFLOW_TRACKING_USERNAME/PASSWORD clients do, and may now log runs there.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/2.0/mlflow/runs/create"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:a long enough password")));
            request.Content = new StringContent($$"""{"experiment_id": "{{experiment}}"}""", Encoding.UTF8, "application/json");
            using var response = await _server.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(200, (await CallAsync(HttpMethod.Patch, "/api/2.0/mlflow/experiments/permissions/update",
            $$"""{"experiment_id": "{{experiment}}", "username": "{{user}}", "permission": "MANAGE"}""", _admin)).Status);
        (_, body) = await CallAsync(HttpMethod.Get, $"/api/2.0/mlflow/experiments/permissions/get?experiment_id={experiment}&username={user}", null, _admin);
        Assert.Equal("MANAGE", Json(body).GetProperty("experiment_permission").GetProperty("permission").GetString());
        (_, body) = await CallAsync(HttpMethod.Get, $"/api/2.0/mlflow/users/get?username={user}", null, _admin);
        Assert.Equal("MANAGE", Json(body).GetProperty("user").GetProperty("experiment_permissions")[0].GetProperty("permission").GetString());
        Assert.Equal(200, (await CallAsync(HttpMethod.Delete, "/api/2.0/mlflow/experiments/permissions/delete",
            $$"""{"experiment_id": "{{experiment}}", "username": "{{user}}"}""", _admin)).Status);
        (status, body) = await CallAsync(HttpMethod.Get, $"/api/2.0/mlflow/experiments/permissions/get?experiment_id={experiment}&username={user}", null, _admin);
        Assert.Equal((404, "RESOURCE_DOES_NOT_EXIST"), (status, Json(body).GetProperty("error_code").GetString()));

        Assert.Equal(200, (await CallAsync(HttpMethod.Post, "/api/2.0/mlflow/registered-models/permissions/create",
            $$"""{"name": "{{AdultModelFixture.Model}}", "username": "{{user}}", "permission": "READ"}""", _admin)).Status);
        (_, body) = await CallAsync(HttpMethod.Get, $"/api/2.0/mlflow/registered-models/permissions/get?name={AdultModelFixture.Model}&username={user}", null, _admin);
        Assert.Equal("READ", Json(body).GetProperty("registered_model_permission").GetProperty("permission").GetString());

        // Only administrators manage users; a deleted user is disabled and signs in no more.
        var (denied, _) = await BasicCallAsync(HttpMethod.Post, "/api/2.0/mlflow/users/create", """{"username": "mallory", "password": "another long password"}""",
            user, "a long enough password");
        Assert.Equal(403, denied);
        Assert.Equal(200, (await CallAsync(HttpMethod.Patch, "/api/2.0/mlflow/users/update-admin", $$"""{"username": "{{user}}", "is_admin": true}""", _admin)).Status);
        (_, body) = await CallAsync(HttpMethod.Get, $"/api/2.0/mlflow/users/get?username={user}", null, _admin);
        Assert.True(Json(body).GetProperty("user").GetProperty("is_admin").GetBoolean());
        Assert.Equal(200, (await CallAsync(HttpMethod.Delete, "/api/2.0/mlflow/users/delete", $$"""{"username": "{{user}}"}""", _admin)).Status);
        Assert.Equal(401, (await BasicAsync(user, "a long enough password")).Status);
    }

    private async Task<(int Status, string Body)> BasicCallAsync(HttpMethod method, string path, string json, string user, string password)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await _server.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(int Status, string Body)> BasicAsync(string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/experiments");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await _server.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    // Creates an account from the machine holding the store and returns a fresh token for it.
    private async Task<string> AccountAsync(string name, params string[] options)
    {
        await Cairn.RunOkAsync(["users", "create", name, "--no-token", .. options]);
        var secret = await TokenAsync(name, "initial", "all");
        _names[secret] = name;
        return secret;
    }

    private readonly Dictionary<string, string> _names = [];

    private Task<string> NameOfAsync(string token) => Task.FromResult(_names[token]);

    private async Task<string> TokenAsync(string user, string name, string scope, string expires = "1d")
    {
        var issued = (await Cairn.RunOkAsync("tokens", "create", "--user", user, "--name", name, "--scope", scope, "--expires", expires, "--json")).Json;
        var secret = issued.GetProperty("secret").GetString()!;
        _names[secret] = user;
        return secret;
    }

    private async Task<string?> AliasAsync(string model)
    {
        var (_, body) = await CallAsync(HttpMethod.Get, $"/api/2.0/mlflow/registered-models/alias?name={model}&alias=champion", null, _admin);
        return Json(body).GetProperty("model_version").GetProperty("version").GetString();
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json, string? token)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _server.SendAsync(request);
    }

    private async Task<(int Status, string Body)> CallAsync(HttpMethod method, string path, string? json, string? token)
    {
        using var response = await SendAsync(method, path, json, token);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Metadata Bearer(string token) => new() { { "authorization", $"Bearer {token}" } };

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    private static int Served(string body) => Json(body).GetProperty("deployments").GetArrayLength();

    // Identity changes reach a server's cached credentials within a second; wait for that rather than for a fixed time.
    private static async Task Eventually(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            await Task.Delay(100, timeout.Token);
        }
    }
}

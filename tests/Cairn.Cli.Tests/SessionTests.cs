using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cairn.Server;

namespace Cairn.Cli.Tests;

/// <summary>Browser sign-in against a real server: password sessions with antiforgery, and OpenID Connect against a real provider on loopback.</summary>
public sealed class SessionTests : IAsyncLifetime
{
    private readonly CairnHarness _cairn = new();
    private OidcProvider _provider = null!;
    private HttpClient _server = null!;
    private string _admin = "";

    public async Task InitializeAsync()
    {
        _provider = await OidcProvider.StartAsync();
        _server = await _cairn.StartServerAsync(options: new CairnServerOptions
        {
            Authentication = true,
            GrpcPort = null,
            Oidc = new OidcSettings(_provider.Issuer, OidcProvider.ClientId, OidcProvider.ClientSecret) { RequireHttpsMetadata = false },
        });
        await _cairn.RunOkAsync("users", "create", "root", "--admin", "--no-token");
        _admin = (await _cairn.RunOkAsync("tokens", "create", "--user", "root", "--name", "t", "--json")).Json.GetProperty("secret").GetString()!;
    }

    public async Task DisposeAsync()
    {
        _server.Dispose();
        await _provider.DisposeAsync();
        await _cairn.DisposeAsync();
    }

    [Fact]
    public async Task APasswordSession_ReadsFreely_ButChangesOnlyWithTheAntiforgeryToken_AndEndsOnSignOut()
    {
        await _cairn.RunOkAsync("users", "create", "sam", "--role", "editor", "--no-token");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(_server, HttpMethod.Patch, "/api/2.0/mlflow/users/update-password",
            """{"username": "sam", "password": "sam's long password"}""", bearer: _admin)).StatusCode);
        var cookies = new CookieContainer();
        using var browser = Browser(cookies);

        var wrong = await SendAsync(browser, HttpMethod.Post, "/api/session", """{"username": "sam", "password": "not it at all"}""");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        var signedIn = await SendAsync(browser, HttpMethod.Post, "/api/session", """{"username": "sam", "password": "sam's long password"}""");
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        var csrf = Json(await signedIn.Content.ReadAsStringAsync()).GetProperty("csrf_token").GetString()!;
        var cookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("cairn.session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(browser, HttpMethod.Get, "/api/experiments")).StatusCode);
        var session = Json(await (await SendAsync(browser, HttpMethod.Get, "/api/session")).Content.ReadAsStringAsync());
        Assert.Equal(("sam", "session"), (session.GetProperty("user").GetString(), session.GetProperty("via").GetString()));

        // Another server of the same store (a replica behind a load balancer) accepts the session: the key ring is in the store.
        using var replica = await _cairn.StartServerAsync(options: new CairnServerOptions { Authentication = true, GrpcPort = null });
        using var sameBrowser = Browser(cookies, replica.BaseAddress);
        var there = await SendAsync(sameBrowser, HttpMethod.Get, "/api/session");
        Assert.Equal(HttpStatusCode.OK, there.StatusCode);
        Assert.Equal("sam", Json(await there.Content.ReadAsStringAsync()).GetProperty("user").GetString());

        // What a page on another site could make the browser send — the cookie, but no token — changes nothing.
        var create = """{"name": "from-the-browser"}""";
        var forged = await SendAsync(browser, HttpMethod.Post, "/api/2.0/mlflow/experiments/create", create);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Contains("X-CSRF-TOKEN", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(browser, HttpMethod.Post, "/api/2.0/mlflow/experiments/create", create, csrf)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(browser, HttpMethod.Delete, "/api/session", csrf: csrf)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(browser, HttpMethod.Get, "/api/experiments")).StatusCode);
    }

    [Fact]
    public async Task OpenIdConnectSignIn_CreatesTheUser_MirrorsTheProvidersGroups_AndOpensASession()
    {
        await _cairn.RunOkAsync("groups", "create", "fraud-team");
        await _cairn.RunOkAsync("groups", "create", "ops-team");
        await _cairn.RunOkAsync("grants", "set", "fraud-team", "editor", "--on", "global");
        OidcProvider.NextUser.Clear();
        OidcProvider.NextUser["sub"] = ["user-olga"];
        OidcProvider.NextUser["preferred_username"] = ["olga"];
        OidcProvider.NextUser["name"] = ["Olga K."];
        OidcProvider.NextUser["groups"] = ["fraud-team", "a-group-cairn-does-not-have"];
        using var browser = Browser();

        // Through the provider and back: the session opens on the page asked for.
        var landed = await SendAsync(browser, HttpMethod.Get, "/signin/oidc?returnUrl=/api/session");
        var body = await landed.Content.ReadAsStringAsync();
        Assert.True(landed.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("olga", Json(body).GetProperty("user").GetString());
        Assert.Equal("editor", Json(body).GetProperty("global_role").GetString());
        var olga = (await _cairn.RunOkAsync("users", "show", "olga", "--json")).Json;
        Assert.Equal(["fraud-team"], olga.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal("Olga K.", olga.GetProperty("display_name").GetString());

        // The next sign-in follows the provider's groups: out of fraud-team, into ops-team.
        OidcProvider.NextUser["groups"] = ["ops-team"];
        using var again = Browser();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(again, HttpMethod.Get, "/signin/oidc?returnUrl=/api/session")).StatusCode);
        olga = (await _cairn.RunOkAsync("users", "show", "olga", "--json")).Json;
        Assert.Equal(["ops-team"], olga.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));

        // A disabled user cannot sign in through the provider either; sign-in never redirects off this server.
        await _cairn.RunOkAsync("users", "disable", "olga");
        using var third = Browser();
        var refused = await SendAsync(third, HttpMethod.Get, "/signin/oidc?returnUrl=https://evil.example/");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("disabled", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var events = (await _cairn.RunOkAsync("events", "--user", "olga", "--json")).Json.EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Equal(2, events.Count(k => k == "signin"));
    }

    [Fact]
    public async Task CliBrowserLogin_GoesThroughTheProvider_AndKeepsATokenOfTheUser()
    {
        await _cairn.RunOkAsync("groups", "create", "analysts");
        await _cairn.RunOkAsync("grants", "set", "analysts", "viewer", "--on", "global");
        OidcProvider.NextUser.Clear();
        OidcProvider.NextUser["sub"] = ["user-pia"];
        OidcProvider.NextUser["preferred_username"] = ["pia"];
        OidcProvider.NextUser["groups"] = ["analysts"];

        // The laptop's "browser" is a script that tells the test which page to open; the test's cookie-keeping client opens it.
        await using var laptop = new CairnHarness();
        laptop.Environment["XDG_CONFIG_HOME"] = Path.Combine(laptop.WorkingDirectory, "config");
        var opened = Path.Combine(laptop.WorkingDirectory, "opened.txt");
        var script = laptop.WriteFile("browser.sh", $"#!/bin/sh\necho \"$1\" > '{opened}'\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        laptop.Environment["BROWSER"] = script;
        var login = laptop.RunAsync("login", _server.BaseAddress!.ToString(), "--browser");
        for (var i = 0; i < 300 && !File.Exists(opened); i++)
        {
            await Task.Delay(50);
        }

        var page = (await File.ReadAllTextAsync(opened)).Trim();
        Assert.StartsWith(new Uri(_server.BaseAddress!, "signin/cli?port=").AbsoluteUri, page, StringComparison.Ordinal);
        using var browser = Browser();
        using var landed = await browser.GetAsync(page);
        Assert.Equal(HttpStatusCode.OK, landed.StatusCode);
        Assert.Contains("Signed in to Cairn", await landed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var result = await login.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Contains("as pia", result.Output, StringComparison.Ordinal);
        Assert.Contains("No datasets yet", (await laptop.RunOkAsync("datasets", "list")).Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(laptop.Home, "metadata.db")), "the laptop used a local store, not the server");
        Assert.Equal(8, (await laptop.RunAsync("events")).ExitCode); // a viewer, as the provider's group makes her
        var tokens = (await _cairn.RunOkAsync("tokens", "list", "--user", "pia", "--json")).Json;
        Assert.StartsWith("cli-", tokens[0].GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, tokens[0].GetProperty("expires_at").ValueKind);

        // A code without its verifier, or a forged one, is worth nothing.
        using var anonymous = Browser();
        var forged = await SendAsync(anonymous, HttpMethod.Post, "/api/session/cli-token", """{"code": "not-a-code", "verifier": "x", "name": "stolen"}""");
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        var bad = await SendAsync(anonymous, HttpMethod.Get, "/signin/cli?port=80&state=x&challenge=y");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task BehindATrustedProxy_TheClientsAddressAndHttpsCount_AndFromAnyoneElseTheHeadersAreIgnored()
    {
        await _cairn.RunOkAsync("users", "create", "pat", "--no-token");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(_server, HttpMethod.Patch, "/api/2.0/mlflow/users/update-password",
            """{"username": "pat", "password": "pat's long password"}""", bearer: _admin)).StatusCode);
        using var proxied = await _cairn.StartServerAsync(options: new CairnServerOptions { Authentication = true, GrpcPort = null, TrustedProxies = ["127.0.0.1"] });
        async Task<HttpResponseMessage> SignInAsync(HttpClient client, string password)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/session")
            {
                Content = new StringContent($$"""{"username": "pat", "password": "{{password}}"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Forwarded-For", "203.0.113.9");
            request.Headers.Add("X-Forwarded-Proto", "https");
            var response = await client.SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            return response;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(proxied, "wrong one")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(_server, "wrong two")).StatusCode);
        var signedIn = await SignInAsync(proxied, "pat's long password");
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        Assert.Contains("secure", signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("cairn.session=", StringComparison.Ordinal)),
            StringComparison.OrdinalIgnoreCase);

        var failed = (await _cairn.RunOkAsync("events", "--json")).Json.EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "signin.failed" && e.GetProperty("subject").GetString() == "pat")
            .Select(e => JsonDocument.Parse(e.GetProperty("detail").GetString()!).RootElement.GetProperty("address").GetString())
            .ToList();
        Assert.Equal(["127.0.0.1", "203.0.113.9"], failed.Order());
    }

    private HttpClient Browser(CookieContainer? cookies = null, Uri? server = null) =>
        new(new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), AllowAutoRedirect = true, MaxAutomaticRedirections = 10 })
        {
            BaseAddress = server ?? _server.BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string? json = null, string? csrf = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (csrf is not null)
        {
            request.Headers.Add("X-CSRF-TOKEN", csrf);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;
}

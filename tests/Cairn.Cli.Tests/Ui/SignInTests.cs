using System.Net;
using Cairn.Server;
using Microsoft.Playwright;

namespace Cairn.Cli.Tests.Ui;

/// <summary>The UI on a server that requires authentication: sign-in, what a user's roles let them see and do, sign-out.</summary>
public sealed class SignInTests : IAsyncLifetime
{
    private readonly CairnHarness _cairn = new();
    private Chromium _chromium = null!;
    private Uri _server = null!;

    public async Task InitializeAsync()
    {
        await _cairn.RunOkAsync("datasets", "add", CairnHarness.DataFile("breast_cancer.csv"), "--name", "cancer");
        using var client = await _cairn.StartServerAsync(options: new CairnServerOptions { Authentication = true, GrpcPort = null });
        _server = client.BaseAddress!;
        await _cairn.RunOkAsync("users", "create", "root", "--admin", "--no-token");
        await _cairn.RunOkAsync("users", "create", "vera", "--role", "viewer", "--no-token");
        var admin = (await _cairn.RunOkAsync("tokens", "create", "--user", "root", "--name", "t", "--json")).Json.GetProperty("secret").GetString()!;
        using var request = new HttpRequestMessage(HttpMethod.Patch, "api/2.0/mlflow/users/update-password")
        {
            Content = new StringContent("""{"username": "vera", "password": "vera's long password"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin);
        using var http = new HttpClient { BaseAddress = _server };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
        _chromium = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _chromium.DisposeAsync();
        await _cairn.DisposeAsync();
    }

    [Fact]
    public async Task APageWithoutASession_GoesToSignIn_AndComesBackSignedIn_WithTheUsersRightsOnly()
    {
        var page = await _chromium.NewPageAsync(_server);
        await page.GotoAsync("datasets/cancer");
        Assert.Contains("/signin?returnUrl=%2Fdatasets%2Fcancer", page.Url, StringComparison.Ordinal);
        await Chromium.ScreenshotAsync(page, "signin");

        await page.Locator("#user").FillAsync("vera");
        await page.Locator("#password").FillAsync("not the password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("wrong");
        Assert.DoesNotContain("not the password", await page.ContentAsync(), StringComparison.Ordinal);

        await page.Locator("#user").FillAsync("vera");
        await page.Locator("#password").FillAsync("vera's long password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/datasets/cancer");
        await Assertions.Expect(page.Locator("header")).ToContainTextAsync("Signed in as vera");
        await Assertions.Expect(page.Locator("table.data")).ToContainTextAsync("breast_cancer.csv");

        // A viewer may read but not read the audit log, which needs maintainer.
        var audit = await page.GotoAsync("audit");
        Assert.Equal(403, audit!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("maintainer");

        // The user menu's tokens page makes a token that works at once for the API, and revokes it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Tokens" }).ClickAsync();
        await page.Locator("input[name=Name]").FillAsync("laptop");
        await page.Locator("select[name=Scope]").SelectOptionAsync("read");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var secret = (await page.Locator("#secret").InnerTextAsync()).Trim();
        Assert.StartsWith("cairn_", secret, StringComparison.Ordinal);
        await Chromium.ScreenshotAsync(page, "tokens");
        using (var api = new HttpClient { BaseAddress = _server })
        {
            api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("api/datasets")).StatusCode);
            await page.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Revoked token laptop");
            // Servers learn of revocations through the identity revision they poll once a second.
            var status = HttpStatusCode.OK;
            for (var i = 0; i < 30 && status != HttpStatusCode.Unauthorized; i++)
            {
                await Task.Delay(100);
                status = (await api.GetAsync("api/datasets")).StatusCode;
            }

            Assert.Equal(HttpStatusCode.Unauthorized, status);
        }

        await page.GotoAsync("datasets");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/signin");
        await page.GotoAsync("datasets");
        Assert.Contains("/signin", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALivePage_StopsShowingItsFigures_WhenItsUserLosesTheRightToSeeThem()
    {
        await _cairn.TrainAndRegisterAsync("iris.csv", "iris",
            "dataset: iris\nlabel: target\ntask: multiclass\nhyperparameters: {min_data_in_leaf: 2, num_iterations: 5}\n", "iris-live");
        await _cairn.RunOkAsync("deploy", "iris", "--model", "iris-live@champion");
        var page = await _chromium.NewPageAsync(_server);
        await page.GotoAsync("signin?returnUrl=%2Fdeployments%2Firis");
        await page.Locator("#user").FillAsync("vera");
        await page.Locator("#password").FillAsync("vera's long password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/deployments/iris");
        await page.WaitForFunctionAsync("() => window.Blazor && document.querySelector('h1')");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("What it serves");

        // The circuit opened as vera; her viewer role goes, and the next refresh runs as the vera of now.
        await _cairn.RunOkAsync("grants", "remove", "vera", "--on", "global");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("viewer", new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator("main")).Not.ToContainTextAsync("What it serves");
    }

    [Fact]
    public async Task APostWithoutTheFormsAntiforgeryToken_IsRefused()
    {
        // What a page on another site could send with the user's cookie: a form post with no token (and a foreign origin).
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _server };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/session")
        {
            Content = new FormUrlEncodedContent([new("user", "vera"), new("password", "vera's long password")]),
        };
        request.Headers.Add("Origin", _server.GetLeftPart(UriPartial.Authority));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("error=", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Set-Cookie") && response.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("cairn.session", StringComparison.Ordinal)));
    }
}

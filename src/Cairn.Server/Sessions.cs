using System.Security.Claims;
using System.Text.Json;
using Cairn.Application;
using Cairn.Application.Identity;
using Cairn.Core;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cairn.Server;

/// <summary>
/// Browser sessions: a user signs in with a password (<c>POST /api/session</c>) or through an OpenID Connect provider
/// (<c>/signin/oidc</c>) and gets an HttpOnly, SameSite=Lax session cookie. A request the cookie authenticates may change
/// something only with the antiforgery token <c>GET /api/session</c> hands out, sent back as <c>X-CSRF-TOKEN</c>, so a
/// page on another site cannot act with the user's cookie.
/// </summary>
internal static class Sessions
{
    /// <summary>The cookie scheme.</summary>
    public const string Scheme = "cairn-session";

    /// <summary>The OpenID Connect scheme.</summary>
    public const string OidcScheme = "oidc";

    /// <summary>The header that carries the antiforgery token.</summary>
    public const string CsrfHeader = "X-CSRF-TOKEN";

    /// <summary>How long a session lasts without use.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(8);

    public static void AddSessions(IServiceCollection services, CairnServerOptions options)
    {
        // The key ring lives in the store, shared by every server of it, so a session survives restarts and load balancing.
        services.AddDataProtection().SetApplicationName("cairn");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider => new ConfigureOptions<KeyManagementOptions>(keys =>
            keys.XmlRepository = new StoreKeyRepository(provider.GetRequiredService<Core.Ports.IIdentityStore>())));

        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.HeaderName = CsrfHeader;
            antiforgery.Cookie.Name = "cairn.csrf";
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        var authentication = services.AddAuthentication().AddCookie(Scheme, cookie =>
        {
            cookie.Cookie.Name = "cairn.session";
            cookie.Cookie.HttpOnly = true;
            // Lax: sent on the top-level navigation back from the identity provider, never on another site's POSTs or fetches.
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = IdleTimeout;
            cookie.SlidingExpiration = true;
            // An API answers 401/403; it never redirects to a login page.
            cookie.Events.OnRedirectToLogin = context => Refuse(context.Response, 401);
            cookie.Events.OnRedirectToAccessDenied = context => Refuse(context.Response, 403);
        });
        if (options.Oidc is { } oidc)
        {
            authentication.AddOpenIdConnect(OidcScheme, o => ConfigureOidc(o, oidc));
        }
    }

    public static void MapSessions(this IEndpointRouteBuilder app, CairnServerOptions options)
    {
        app.MapGet("/api/session", (HttpContext http, Actor actor, IAntiforgery antiforgery) =>
        {
            var principal = actor.Principal;
            var viaSession = http.User.Identity?.AuthenticationType == Scheme;
            return InferenceEndpoints.Json(w =>
            {
                w.WriteString("user", principal.Name);
                w.WriteString("via", viaSession ? "session" : principal.Token is { } token ? $"token {token}" : "password");
                w.WriteString("global_role", Core.Identity.Roles.Name(principal.GlobalRole));
                if (viaSession)
                {
                    w.WriteString("csrf_token", antiforgery.GetAndStoreTokens(http).RequestToken);
                }
            });
        });
        app.MapPost("/api/session", async (HttpContext http, Authenticator authenticator, IAntiforgery antiforgery) =>
        {
            if (http.Request.HasFormContentType)
            {
                return await SignInFromPageAsync(http, authenticator);
            }

            var (user, password) = await ReadSignInAsync(http);
            var principal = await authenticator.SignInAsync(user, password, Address(http), http.RequestAborted);
            var session = SessionPrincipal(principal.Name);
            await http.SignInAsync(Scheme, session);
            // The antiforgery token is bound to the signed-in user, so it is made for the new session, not for the anonymous request.
            http.User = session;
            var csrf = antiforgery.GetAndStoreTokens(http).RequestToken;
            return InferenceEndpoints.Json(w =>
            {
                w.WriteString("user", principal.Name);
                w.WriteString("csrf_token", csrf);
            });
        });
        app.MapDelete("/api/session", async (HttpContext http) =>
        {
            await http.SignOutAsync(Scheme);
            return Results.NoContent();
        });
        // The web UI's sign-out button: a form post, so the guard has checked its antiforgery token.
        app.MapPost("/signout", async (HttpContext http) =>
        {
            await http.SignOutAsync(Scheme);
            return Results.Redirect("/signin", permanent: false, preserveMethod: false);
        }).ExcludeFromDescription();
        MapCliSignIn(app, options);
        if (options.Oidc is not null)
        {
            app.MapGet("/signin/oidc", (string? returnUrl) =>
                Results.Challenge(new AuthenticationProperties { RedirectUri = LocalUrl(returnUrl) }, [OidcScheme]));
        }
    }

    /// <summary>Paths a request may reach without credentials: signing in (a browser, or the command line through one).</summary>
    public static bool IsSignIn(HttpRequest request) =>
        (HttpMethods.IsPost(request.Method) && request.Path == "/api/session") || (HttpMethods.IsGet(request.Method) && request.Path == "/signin/oidc")
        || (HttpMethods.IsGet(request.Method) && request.Path == CliSignInPath) || (HttpMethods.IsPost(request.Method) && request.Path == CliTokenPath);

    /// <summary>Where <c>cairn login --browser</c> sends the browser.</summary>
    public const string CliSignInPath = "/signin/cli";

    /// <summary>Where the command line trades its sign-in code for a token.</summary>
    public const string CliTokenPath = "/api/session/cli-token";

    // How long the code a browser carries back to the command line stays good: long enough to hand over, no longer.
    private static readonly TimeSpan CliCodeLifetime = TimeSpan.FromMinutes(2);

    // How long the token the command line gets lives; it signs in again after that.
    private static readonly TimeSpan CliTokenLifetime = TimeSpan.FromDays(30);

    /// <summary>
    /// The command line's browser sign-in (<c>cairn login URL --browser</c>, the loopback flow of RFC 8252): a browser
    /// signed in here (by the OpenID Connect provider or a password) is sent back to the CLI's listener on 127.0.0.1 with
    /// a two-minute code bound to the CLI's PKCE challenge; the CLI trades the code and its verifier for a token of its
    /// user. The code is sealed with the store's key ring, so any replica accepts it; without the verifier, which never
    /// leaves the CLI, it is worth nothing.
    /// </summary>
    private static void MapCliSignIn(IEndpointRouteBuilder app, CairnServerOptions options)
    {
        app.MapGet(CliSignInPath, async (HttpContext http, int? port, string? state, string? challenge, IDataProtectionProvider protection, Authenticator authenticator) =>
        {
            if (port is not (>= 1024 and <= 65535) || !IsUrlSafe(state, 16, 128) || !IsUrlSafe(challenge, 43, 43))
            {
                throw CairnException.Invalid("A command-line sign-in needs ?port= (1024-65535), ?state= and ?challenge= as 'cairn login --browser' makes them.");
            }

            if (!options.Authentication)
            {
                throw CairnException.Invalid("This server asks for no sign-in: log in with 'cairn login URL' alone.");
            }

            var back = $"{CliSignInPath}?port={port}&state={state}&challenge={challenge}";
            if (await http.AuthenticateAsync(Scheme) is not { Succeeded: true, Principal.Identity.Name: { } user })
            {
                return options.Oidc is not null
                    ? Results.Challenge(new AuthenticationProperties { RedirectUri = back }, [OidcScheme])
                    : Results.Redirect($"/signin?returnUrl={Uri.EscapeDataString(back)}");
            }

            var principal = await authenticator.AuthenticateSessionAsync(user, http.RequestAborted);
            var code = CliCodes(protection).Protect($"{principal.Name}\n{challenge}", CliCodeLifetime);
            return Results.Redirect($"http://127.0.0.1:{port}/callback?code={Uri.EscapeDataString(code)}&state={state}");
        }).ExcludeFromDescription();
        app.MapPost(CliTokenPath, async (Api.CliTokenBody body, IDataProtectionProvider protection, Authenticator authenticator, IdentityService identity,
            Actor actor, CancellationToken ct) =>
        {
            string sealedPart;
            try
            {
                sealedPart = CliCodes(protection).Unprotect(body.Code ?? "");
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                throw CairnException.Unauthenticated("The sign-in code is not valid or has expired (it lasts two minutes): run 'cairn login URL --browser' again.");
            }

            var (user, challenge) = (sealedPart.Split('\n')[0], sealedPart.Split('\n')[^1]);
            var computed = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(body.Verifier ?? "")));
            if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(computed), System.Text.Encoding.ASCII.GetBytes(challenge)))
            {
                throw CairnException.Unauthenticated("The sign-in code was made for another command line (its verifier does not match).");
            }

            actor.Become(await authenticator.AuthenticateSessionAsync(user, ct));
            var (token, secret) = await identity.CreateTokenAsync(null, body.Name, "all", CliTokenLifetime, ct);
            return Results.Ok(new Api.CliTokenAnswer(user, token.Name, secret, token.ExpiresAt));
        }).ExcludeFromDescription();
    }

    private static ITimeLimitedDataProtector CliCodes(IDataProtectionProvider protection) =>
        protection.CreateProtector("cairn.cli-sign-in").ToTimeLimitedDataProtector();

    private static bool IsUrlSafe(string? text, int min, int max) =>
        text is { Length: var length } && length >= min && length <= max && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Checks the antiforgery token of a state-changing request the session cookie authenticated.</summary>
    public static async Task ValidateAntiforgeryAsync(HttpContext context)
    {
        try
        {
            await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context);
        }
        catch (AntiforgeryValidationException)
        {
            throw CairnException.Denied($"A request signed in by the session cookie must carry the {CsrfHeader} header from GET /api/session to change anything.");
        }
    }

    private static void ConfigureOidc(OpenIdConnectOptions o, OidcSettings oidc)
    {
        o.Authority = oidc.Authority.AbsoluteUri;
        o.ClientId = oidc.ClientId;
        o.ClientSecret = oidc.ClientSecret;
        o.RequireHttpsMetadata = oidc.RequireHttpsMetadata;
        o.ResponseType = "code";
        // The code comes back on a top-level GET (with PKCE), so SameSite=Lax cookies — correlation, nonce — come with it.
        o.ResponseMode = "query";
        o.UsePkce = true;
        o.SignInScheme = Scheme;
        o.MapInboundClaims = false;
        o.Scope.Clear();
        o.Scope.Add("openid");
        o.Scope.Add("profile");
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.Events.OnTokenValidated = async context =>
        {
            var claims = context.Principal!;
            var name = claims.FindFirst(oidc.UserClaim)?.Value;
            if (!Names.IsValid(name))
            {
                context.Fail($"The provider's '{oidc.UserClaim}' claim ('{name}') is not a Cairn user name.");
                return;
            }

            var services = context.HttpContext.RequestServices;
            var groups = claims.FindAll(oidc.GroupsClaim).SelectMany(c => GroupsOf(c.Value)).ToList();
            var account = await services.GetRequiredService<IdentityService>()
                .ProvisionExternalAsync(name!, claims.FindFirst("name")?.Value, groups, oidc.Authority.Host, context.HttpContext.RequestAborted);
            if (account.Disabled)
            {
                context.Fail($"{name} is disabled in Cairn.");
                return;
            }

            await services.GetRequiredService<Authenticator>().RecordSignInAsync(name!, "oidc", Address(context.HttpContext), context.HttpContext.RequestAborted);
            context.Principal = SessionPrincipal(name!);
        };
        o.Events.OnRemoteFailure = async context =>
        {
            context.HandleResponse();
            await CairnServer.WriteErrorAsync(context.HttpContext, 401, "unauthenticated", $"Signing in with the identity provider failed: {context.Failure?.Message}");
        };
    }

    // A groups claim is one value per group, or (from some providers) one JSON array.
    private static IEnumerable<string> GroupsOf(string value)
    {
        if (!value.StartsWith('['))
        {
            return [value];
        }

        try
        {
            return JsonSerializer.Deserialize(value, Core.CairnJson.Compact.IReadOnlyListString) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    // The session carries only the user's name; roles and grants are read from the store, so changes apply at once.
    private static ClaimsPrincipal SessionPrincipal(string name) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], Scheme));

    private static string Address(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    // Only a path on this server: an absolute or protocol-relative URL would make sign-in an open redirect.
    private static string LocalUrl(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";

    // The web UI's sign-in form. Its antiforgery token is checked, so no other site can sign a browser into an account of
    // its choosing; a failure goes back to the form with the reason, never echoing the password.
    private static async Task<IResult> SignInFromPageAsync(HttpContext http, Authenticator authenticator)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var returnUrl = LocalUrl(form["returnUrl"]);
        try
        {
            await ValidateAntiforgeryAsync(http);
            var principal = await authenticator.SignInAsync(form["user"].ToString(), form["password"].ToString(), Address(http), http.RequestAborted);
            await http.SignInAsync(Scheme, SessionPrincipal(principal.Name));
            return Results.Redirect(returnUrl);
        }
        catch (CairnException e) when (e.Code is ErrorCode.Unauthenticated or ErrorCode.Throttled or ErrorCode.PermissionDenied or ErrorCode.InvalidArgument)
        {
            return Results.Redirect($"/signin?error={Uri.EscapeDataString(e.Message)}&returnUrl={Uri.EscapeDataString(returnUrl)}");
        }
    }

    private static async Task<(string User, string Password)> ReadSignInAsync(HttpContext http)
    {
        if (!http.Request.HasJsonContentType())
        {
            throw Mlflow.MlflowEndpoints.JsonRequired(http.Request);
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = 4 }, http.RequestAborted);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("username", out var user) && user.ValueKind == JsonValueKind.String
                && root.TryGetProperty("password", out var password) && password.ValueKind == JsonValueKind.String
                ? (user.GetString()!, password.GetString()!)
                : throw CairnException.Invalid("Send {\"username\": \"...\", \"password\": \"...\"}.");
        }
        catch (JsonException e)
        {
            throw CairnException.Invalid($"The sign-in body is not JSON: {e.Message}");
        }
    }

    private static Task Refuse(HttpResponse response, int status)
    {
        response.StatusCode = status;
        return Task.CompletedTask;
    }
}

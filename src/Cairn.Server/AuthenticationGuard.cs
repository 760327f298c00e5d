using System.Text;
using Cairn.Application;
using Cairn.Application.Identity;
using Cairn.Core;
using Cairn.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Cairn.Server;

/// <summary>
/// Authenticates every request when the server requires it: <c>Authorization: Bearer TOKEN</c> (REST and gRPC
/// metadata alike), or HTTP Basic with a user and a password or one of the user's tokens (what MLflow clients send for
/// <c>MLFLOW_TRACKING_USERNAME</c>/<c>PASSWORD</c>). The principal then holds for the rest of the request, and the
/// application services check its grants. Only liveness and readiness (and <c>/metrics</c> when configured) stay open.
/// </summary>
internal sealed class AuthenticationGuard(RequestDelegate next, Authenticator authenticator, Actor actor, CairnServerOptions options)
{
    /// <summary>What a 401 names as the accepted schemes.</summary>
    public const string Challenge = "Bearer realm=\"cairn\", Basic realm=\"cairn\", charset=\"UTF-8\"";

    private static readonly HashSet<string> Anonymous = new(StringComparer.Ordinal)
    {
        "/v2/health/live",
        "/v2/health/ready",
        "/health",
        "/inference.GRPCInferenceService/ServerLive",
        "/inference.GRPCInferenceService/ServerReady",
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (Anonymous.Contains(path) || (options.AnonymousMetrics && path == "/metrics") || Sessions.IsSignIn(context.Request)
            || (options.Ui && CairnUi.IsPublic(context.Request)))
        {
            await next(context);
            return;
        }

        Core.Identity.Principal principal;
        try
        {
            principal = await AuthenticateAsync(context);
        }
        catch (CairnException e) when (e.Code == ErrorCode.Unauthenticated && options.Ui && CairnUi.IsPage(context.Request)
            && context.Request.Headers.Authorization.Count == 0)
        {
            // A browser opening a page without a session is sent to sign in, and comes back to the page afterwards.
            context.Response.Redirect($"/signin?returnUrl={Uri.EscapeDataString(context.Request.Path + context.Request.QueryString)}");
            return;
        }

        actor.Become(principal);
        await next(context);
    }

    private async ValueTask<Core.Identity.Principal> AuthenticateAsync(HttpContext context)
    {
        var headers = context.Request.Headers.Authorization;
        if (headers.Count == 0 && await context.AuthenticateAsync(Sessions.Scheme) is { Succeeded: true, Principal: { } session })
        {
            context.User = session;
            var method = context.Request.Method;
            // The UI's live pages negotiate their SignalR connection with a POST that changes nothing; the circuit it opens
            // is bound to the page the server rendered for this session.
            if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !HttpMethods.IsOptions(method) && !CairnUi.IsCircuit(context.Request))
            {
                await Sessions.ValidateAntiforgeryAsync(context);
            }

            return await authenticator.AuthenticateSessionAsync(session.Identity?.Name ?? "", context.RequestAborted);
        }

        if (headers.Count == 0)
        {
            throw CairnException.Unauthenticated("This server requires credentials: send 'Authorization: Bearer TOKEN' (a token from 'cairn tokens create'), or HTTP Basic with a user and password.");
        }

        if (headers.Count > 1)
        {
            throw CairnException.Unauthenticated("The request has more than one Authorization header.");
        }

        var value = headers[0] ?? "";
        if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return await authenticator.AuthenticateTokenAsync(value[7..].Trim(), context.RequestAborted);
        }

        if (value.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var (user, password) = DecodeBasic(value[6..].Trim());
            return await authenticator.AuthenticateBasicAsync(user, password, context.Connection.RemoteIpAddress?.ToString() ?? "unknown", context.RequestAborted);
        }

        var scheme = value.Split(' ', 2)[0];
        throw CairnException.Unauthenticated($"The Authorization scheme '{(scheme.Length > 20 ? scheme[..20] + "…" : scheme)}' is not accepted; use Bearer or Basic.");
    }

    private static (string User, string Password) DecodeBasic(string encoded)
    {
        // user:password is at most a few hundred bytes; anything longer is not a credential.
        if (encoded.Length > 4096)
        {
            throw CairnException.Unauthenticated("The Basic credentials are too long.");
        }

        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            throw CairnException.Unauthenticated("The Basic credentials are not valid base64 of 'user:password'.");
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0
            ? (text[..colon], text[(colon + 1)..])
            : throw CairnException.Unauthenticated("The Basic credentials are not 'user:password'.");
    }
}

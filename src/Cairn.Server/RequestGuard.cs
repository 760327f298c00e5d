using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Cairn.Web;

namespace Cairn.Server;

/// <summary>
/// Keeps pages on other sites from acting through a user's browser. A browser sends a cross-site POST without asking
/// first (no CORS preflight) only when its body is text/plain, a form or multipart; so a state-changing request must
/// not carry one of those, and one that names another origin is refused unless that origin is allowed (CORS).
/// Host names are checked separately (host filtering), which closes DNS rebinding.
/// </summary>
internal sealed class RequestGuard(RequestDelegate next, CairnServerOptions options)
{
    // The content types of a "simple" request (Fetch standard), which a page on any site can send without a preflight.
    private static readonly string[] SafelistedTypes = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"];

    private readonly HashSet<string> _allowedOrigins = new(options.CorsOrigins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        {
            return next(context);
        }

        if (request.Headers.Origin is [{ } origin] && !IsAllowed(origin, request))
        {
            return CairnServer.WriteErrorAsync(context, StatusCodes.Status403Forbidden, "permission_denied",
                $"Requests from the page at {origin} are refused: it is another site. Start the server with --cors-origin {origin} to allow it.");
        }

        // The web UI's own forms are the exception: same-origin (the Origin header, which browsers send on every form post,
        // was just checked) and each carries an antiforgery token that its endpoint verifies.
        var uiForm = options.Ui && request.Headers.Origin.Count == 1 && CairnUi.TakesForms(request);
        if (HttpMethods.IsPost(request.Method) && HasBody(context) && IsSafelisted(request.ContentType) && !uiForm)
        {
            return CairnServer.WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"A POST with a body needs a Content-Type such as application/json, not '{request.ContentType ?? "none"}'; " +
                "a page on any site can send that one, so it never changes anything here.");
        }

        return next(context);
    }

    private bool IsAllowed(string origin, HttpRequest request) =>
        string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase) || _allowedOrigins.Contains(origin);

    private static bool HasBody(HttpContext context) =>
        context.Request.ContentLength is not 0 && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false;

    private static bool IsSafelisted(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return true;
        }

        var mediaType = MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType.Value ?? "" : contentType;
        return SafelistedTypes.Any(t => string.Equals(t, mediaType.Trim(), StringComparison.OrdinalIgnoreCase));
    }
}

using Cairn.Web.Components;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.FluentUI.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Web;

/// <summary>Registers and maps Cairn's web UI.</summary>
public static class CairnUi
{
    /// <summary>Adds the UI's services: Razor components (static rendering, interactive server for live pages) and Fluent UI.</summary>
    public static IServiceCollection AddCairnUi(this IServiceCollection services, CairnUiOptions options)
    {
        services.AddSingleton(options);
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddFluentUIComponents();
        services.AddScoped<CircuitPrincipal>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler>(provider => provider.GetRequiredService<CircuitPrincipal>());
        return services;
    }

    /// <summary>Maps the UI's pages at <c>/</c> and its static assets.</summary>
    public static WebApplication MapCairnUi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    // Paths of the server's other surfaces: never UI pages, so an unauthenticated request to them gets a 401, not a redirect.
    private static readonly string[] ApiPrefixes = ["/api", "/v2", "/invocations", "/metrics", "/health", "/ping", "/version", "/signin/oidc", "/inference."];

    /// <summary>Whether a request is a browser asking for a page (so without a session it is sent to sign in).</summary>
    public static bool IsPage(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path.Value ?? "/";
        return (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && request.Headers.Accept.ToString().Contains("text/html", StringComparison.Ordinal)
            && !ApiPrefixes.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>Whether a request is a post of one of the UI's forms (its pages' actions, signing in and out), each of which checks an antiforgery token.</summary>
    public static bool TakesForms(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path.Value ?? "/";
        return path is "/api/session" or "/signout" || !ApiPrefixes.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>Whether a request needs no credentials: the sign-in page and the UI's static files (scripts, styles), which hold no data.</summary>
    public static bool IsPublic(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.Path;
        return (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && (path == "/signin" || path.StartsWithSegments("/_framework", StringComparison.Ordinal) || path.StartsWithSegments("/_content", StringComparison.Ordinal));
    }

    /// <summary>Whether a request belongs to an interactive page's SignalR circuit.</summary>
    public static bool IsCircuit(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Path.StartsWithSegments("/_blazor", StringComparison.Ordinal);
    }
}

using Cairn.Core;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;

namespace Cairn.Web.Components;

/// <summary>
/// A page that loads through the application services: a refusal or a missing resource becomes the page's message and
/// its HTTP status (403, 404...), never an error page, so a shared link says what is wrong.
/// </summary>
public abstract class CairnPage : ComponentBase
{
    /// <summary>The request being rendered (static rendering); null in an interactive circuit.</summary>
    [CascadingParameter]
    public HttpContext? Http { get; set; }

    /// <summary>Why the page could not show what was asked, when it could not.</summary>
    protected string? Error { get; private set; }

    /// <summary>The error's kind, for pages that explain a refusal differently from a missing resource.</summary>
    protected ErrorCode? ErrorKind { get; private set; }

    /// <summary>The request's cancellation, so a closed tab stops the page's queries.</summary>
    protected CancellationToken Aborted => Http?.RequestAborted ?? CancellationToken.None;

    /// <summary>Runs <paramref name="load"/>; a Cairn error becomes <see cref="Error"/> and the response's status.</summary>
    protected async Task<bool> TryAsync(Func<Task> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        try
        {
            await load();
            return true;
        }
        catch (CairnException e) when (e.Code != ErrorCode.Internal)
        {
            Error = e.Message;
            ErrorKind = e.Code;
            AnswerWith(Http, e.Code);
            return false;
        }
    }

    /// <summary>Gives a server-rendered page's response the status of the error it shows (nothing in a live circuit).</summary>
    internal static void AnswerWith(HttpContext? http, ErrorCode code)
    {
        if (http is { Response.HasStarted: false })
        {
            // Set as the response starts, not now: the component endpoint drops the whole body of a page whose status is
            // 404 when rendering ends (it expects a not-found page to re-execute), and this page is its own message.
            var status = code.HttpStatus();
            http.Response.OnStarting(() =>
            {
                http.Response.StatusCode = status;
                return Task.CompletedTask;
            });
        }
    }

    /// <summary>Shows an error from something other than loading (a form's action).</summary>
    protected void Fail(string message) => Error = message;
}

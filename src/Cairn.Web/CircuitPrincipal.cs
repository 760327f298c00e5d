using Cairn.Application;
using Cairn.Application.Identity;
using Cairn.Core.Identity;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace Cairn.Web;

/// <summary>
/// Runs a live page's events as the user who opened it. The circuit opens on the request the guard authenticated, so
/// the principal is known then; every later event (a click, a refresh tick) runs as that principal, re-read first, so an
/// account disabled or removed, or a grant taken away, after the page opened stops it as it would stop a new request.
/// </summary>
internal sealed class CircuitPrincipal(Actor actor, Authenticator authenticator) : CircuitHandler
{
    private Principal? _principal;

    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        _principal = actor.Principal;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs <paramref name="work"/> as the circuit's principal, re-reading a browser session's account first (cheap: the
    /// authenticator re-reads only when identities changed). Throws an unauthenticated error once the account is
    /// disabled or gone. The principal is set in this frame because an async local set in a callee does not flow back.
    /// </summary>
    public async Task RunAsync(Func<Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        // A session's principal is an account's without a token; the local principal of a server without
        // authentication has no account and nothing to re-read.
        if (_principal is { Id: not null, Token: null } session)
        {
            _principal = await authenticator.AuthenticateSessionAsync(session.Name, cancellationToken);
        }

        if (_principal is not null)
        {
            actor.Become(_principal);
        }

        await work();
    }

    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        context => RunAsync(() => next(context), CancellationToken.None);
}

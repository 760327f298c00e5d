using Cairn.Application;
using Cairn.Core.Identity;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace Cairn.Web;

/// <summary>
/// Runs a live page's events as the user who opened it. The circuit opens on the request the guard authenticated, so
/// the principal is known then; every later event (a click, a refresh tick) runs as that principal, and the services
/// check its grants as they do for any request.
/// </summary>
internal sealed class CircuitPrincipal(Actor actor) : CircuitHandler
{
    private Principal? _principal;

    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        _principal = actor.Principal;
        return Task.CompletedTask;
    }

    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) => context =>
    {
        if (_principal is not null)
        {
            actor.Become(_principal);
        }

        return next(context);
    };
}

using Cairn.Core;
using Cairn.Core.Identity;

namespace Cairn.Application;

/// <summary>
/// Who the current call runs as, and what it may do. A host sets the principal for the rest of one call's async flow
/// (a server once per request, after authenticating it); anything else runs as the process itself, which holds every
/// right — the CLI on the machine with the store, a server without authentication, background loops. Services ask it
/// before they read or change a resource, so every surface (native API, MLflow API, gRPC, CLI) gets the same answer.
/// </summary>
public sealed class Actor
{
    private readonly AsyncLocal<Principal?> _current = new();
    private readonly Principal _process;

    /// <summary>An actor whose calls run as the process unless a principal is set.</summary>
    /// <param name="processName">What the audit log records for the process's own changes.</param>
    public Actor(string processName) => _process = Principal.Local(processName);

    /// <summary>The principal the current call runs as.</summary>
    public Principal Principal => _current.Value ?? _process;

    /// <summary>What the audit log records for the current call.</summary>
    public string Name => Principal.AuditName;

    /// <summary>Runs the rest of the current async flow (and what it starts) as <paramref name="principal"/>.</summary>
    public void Become(Principal principal) => _current.Value = principal;

    /// <summary>
    /// Runs the rest of the current async flow as the process itself: for a server's own work inside a request (loading
    /// the model a caller may score with), after the caller's right to the request was checked.
    /// </summary>
    public void BecomeProcess() => _current.Value = null;

    /// <summary>Whether the current principal holds at least <paramref name="role"/> on <paramref name="resource"/>.</summary>
    public bool Holds(ResourceRef resource, Role role) => Principal.RoleOn(resource) >= role;

    /// <summary>
    /// Throws <see cref="ErrorCode.PermissionDenied"/> unless the current principal holds at least <paramref name="role"/>
    /// on <paramref name="resource"/>. Called before the resource is looked up, so a refusal says nothing about whether it exists.
    /// </summary>
    /// <param name="resource">What the call touches.</param>
    /// <param name="role">The least role that allows it.</param>
    /// <param name="action">What the call does, for the message (such as "move aliases").</param>
    public void Demand(ResourceRef resource, Role role, string action)
    {
        var principal = Principal;
        if (principal.RoleOn(resource) >= role)
        {
            return;
        }

        var scoped = principal.Token is { } token && principal.Cap < role ? $" (token '{token}' is limited to {TokenScopes.Name(principal.Cap)})" : "";
        throw CairnException.Denied(resource.Kind == ResourceKind.Global
            ? $"{principal.Name} may not {action}: that needs the {Roles.Name(role)} role globally{scoped}."
            : $"{principal.Name} may not {action} on {resource}: that needs the {Roles.Name(role)} role there{scoped}.");
    }

    /// <summary>Records that the current principal maintains what it just created (see <see cref="Principal.Claim"/>).</summary>
    public void Claim(ResourceRef resource) => Principal.Claim(resource);

    /// <summary>Demands the right to create a new top-level resource: editor globally. Its creator then maintains it.</summary>
    public void DemandCreate(ResourceKind kind) => Demand(ResourceRef.Global, Role.Editor, $"create {Roles.Name(kind)}s");

    /// <summary>
    /// Which rows of a kind the current principal may see in lists and searches: null when it sees every one (viewer
    /// or more globally), otherwise the principals whose grants count, for the store to apply inside its query.
    /// </summary>
    public Visibility? VisibleTo(ResourceKind kind, Role least = Role.Viewer)
    {
        var principal = Principal;
        if (principal.GlobalRole >= least)
        {
            return null;
        }

        // A credential capped below what is asked sees nothing, whatever its owner's grants.
        return principal.Cap < least ? new Visibility([], least) : new Visibility(principal.PrincipalIds, least);
    }
}

namespace Cairn.Core.Ports;

/// <summary>What a server keeps in memory that another process may change in the shared store.</summary>
public enum ChangeTopic
{
    /// <summary>Deployments, model aliases and model versions: what a server serves.</summary>
    Serving,

    /// <summary>Accounts, tokens and grants: whom a server trusts.</summary>
    Identity,
}

/// <summary>
/// Tells a server as soon as another process commits a change it caches, so it need not poll for it: PostgreSQL's
/// LISTEN/NOTIFY in team mode. A store without one (the embedded SQLite) leaves servers to poll.
/// </summary>
public interface IChangeFeed
{
    /// <summary>
    /// Listens until cancelled, calling <paramref name="changed"/> for each committed change. After the connection is
    /// (re)established it reports every topic once, since what changed while it was down was not heard.
    /// </summary>
    Task ListenAsync(Action<ChangeTopic> changed, CancellationToken cancellationToken);
}

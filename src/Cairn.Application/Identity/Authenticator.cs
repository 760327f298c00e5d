using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Ports;

namespace Cairn.Application.Identity;

/// <summary>
/// Turns credentials into principals. Tokens are checked for form and checksum before any read, looked up by their
/// secret's hash, and cached with their grants; every cache entry is dropped when the store's identity revision moves
/// (read at most once per <see cref="RevisionCheckInterval"/>), so a revocation, a disabled account or a changed grant
/// reaches every server within that interval without a database read per request. Failed password sign-ins are
/// throttled per user and per address.
/// </summary>
public sealed class Authenticator(IIdentityStore store, IdentityService identities, TimeProvider time)
{
    /// <summary>How often the store's identity revision is read.</summary>
    public static readonly TimeSpan RevisionCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Failed sign-ins allowed per user and per address in <see cref="ThrottleWindow"/> before further attempts are refused.</summary>
    public const int MaxFailures = 5;

    /// <summary>The window over which failed sign-ins are counted.</summary>
    public static readonly TimeSpan ThrottleWindow = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Entry> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Principal?> _sessions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _revisionCheck = new(1, 1);
    private long _revision = -1;
    private long _revisionCheckedAt = long.MinValue;

    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = MaxFailures,
            Window = ThrottleWindow,
            QueueLimit = 0,
        }));

    private sealed record Entry(Principal Principal, ApiToken Token, bool OwnerDisabled)
    {
        public long TouchedAt;
    }

    /// <summary>
    /// The principal a bearer token stands for; <see cref="ErrorCode.Unauthenticated"/> naming what is wrong with it
    /// (malformed, unknown, expired, revoked, or its account disabled) — never echoing any of the secret.
    /// </summary>
    public async ValueTask<Principal> AuthenticateTokenAsync(string secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secret);
        await RefreshRevisionAsync(cancellationToken).ConfigureAwait(false);
        // Keyed by the secret itself, so a token seen before costs one lookup: no checksum, no hash, no read.
        if (!_tokens.TryGetValue(secret, out var entry))
        {
            if (!TokenSecret.IsWellFormed(secret))
            {
                throw CairnException.Unauthenticated(secret.StartsWith(TokenSecret.Prefix, StringComparison.Ordinal)
                    ? "The token is malformed: its checksum does not match (was it cut or mistyped?)."
                    : $"The credential is not a Cairn token (they start with '{TokenSecret.Prefix}').");
            }

            entry = await LoadAsync(TokenSecret.Hash(secret), cancellationToken).ConfigureAwait(false);
            _tokens[secret] = entry;
        }

        var now = time.GetUtcNow();
        var token = entry.Token;
        if (token.RevokedAt is { } revoked)
        {
            throw CairnException.Unauthenticated($"Token '{token.Name}' of {token.Owner} was revoked at {revoked.ToString("u", CultureInfo.InvariantCulture)}.");
        }

        if (token.ExpiresAt is { } expires && expires <= now)
        {
            throw CairnException.Unauthenticated($"Token '{token.Name}' of {token.Owner} expired at {expires.ToString("u", CultureInfo.InvariantCulture)}; create a new one with 'cairn tokens create'.");
        }

        if (entry.OwnerDisabled)
        {
            throw CairnException.Unauthenticated($"{token.Owner} is disabled; its tokens do not work.");
        }

        Touch(entry, now);
        return entry.Principal;
    }

    /// <summary>
    /// The principal for HTTP Basic credentials: a user's password, or any of the user's tokens as the password (as
    /// MLflow clients send <c>MLFLOW_TRACKING_USERNAME</c>/<c>PASSWORD</c>). Failed attempts count against the user
    /// and the address; past <see cref="MaxFailures"/> in <see cref="ThrottleWindow"/> every attempt is <see cref="ErrorCode.Throttled"/>.
    /// </summary>
    public async ValueTask<Principal> AuthenticateBasicAsync(string user, string password, string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        if (password.StartsWith(TokenSecret.Prefix, StringComparison.Ordinal))
        {
            var principal = await AuthenticateTokenAsync(password, cancellationToken).ConfigureAwait(false);
            return principal.Name == user
                ? principal
                : throw CairnException.Unauthenticated($"The token given as the password does not belong to '{user}'.");
        }

        return await SignInAsync(user, password, address, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks a user's password (throttled as <see cref="AuthenticateBasicAsync"/>) and records the sign-in or the refusal.</summary>
    public async ValueTask<Principal> SignInAsync(string user, string password, string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        var byUser = "user:" + user;
        var byAddress = "address:" + address;
        if (Exhausted(byUser) || Exhausted(byAddress))
        {
            throw new CairnException(ErrorCode.Throttled, $"Too many failed sign-ins for this user or from this address; wait up to {ThrottleWindow.TotalMinutes:0} minutes.");
        }

        var account = Names.IsValid(user) ? await identities.VerifyPasswordAsync(user, password, cancellationToken).ConfigureAwait(false) : null;
        if (account is null)
        {
            using var a = _failures.AttemptAcquire(byUser);
            using var b = _failures.AttemptAcquire(byAddress);
            await RecordAsync("anonymous", "signin.failed", user, address, cancellationToken).ConfigureAwait(false);
            throw CairnException.Unauthenticated("The user name or password is wrong, or the user is disabled.");
        }

        await RecordAsync(account.Name, "signin", account.Name, address, cancellationToken).ConfigureAwait(false);
        return await PrincipalForAsync(account, Role.Admin, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The principal of a browser session signed in as <paramref name="user"/> (by password or OpenID Connect): a session
    /// of an account disabled or removed since is refused within <see cref="RevisionCheckInterval"/>, as tokens are.
    /// </summary>
    public async ValueTask<Principal> AuthenticateSessionAsync(string user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        await RefreshRevisionAsync(cancellationToken).ConfigureAwait(false);
        if (!_sessions.TryGetValue(user, out var principal))
        {
            principal = await store.GetPrincipalAsync(user, cancellationToken).ConfigureAwait(false) is { Disabled: false, Kind: not PrincipalKind.Group } account
                ? await PrincipalForAsync(account, Role.Admin, null, cancellationToken).ConfigureAwait(false)
                : null;
            _sessions[user] = principal;
        }

        return principal ?? throw CairnException.Unauthenticated($"The session's user '{user}' is disabled or no longer exists; sign in again.");
    }

    /// <summary>Records a sign-in made elsewhere (an OpenID Connect provider's), as password sign-ins are recorded.</summary>
    public Task RecordSignInAsync(string user, string how, string address, CancellationToken cancellationToken) =>
        store.RecordEventAsync(user, "signin", user, new Dictionary<string, string> { ["address"] = address, ["via"] = how }, cancellationToken);

    /// <summary>The principal of an account signed in some other way (OpenID Connect), with every right its grants give.</summary>
    public async ValueTask<Principal> PrincipalForAsync(Account account, Role cap, string? token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        var access = await store.LoadAccessAsync(account.Id, cancellationToken).ConfigureAwait(false);
        return Principal.For(account, access.GroupIds, access.Grants, cap, token);
    }

    private bool Exhausted(string key) => _failures.GetStatistics(key) is { CurrentAvailablePermits: <= 0 };

    private Task RecordAsync(string actor, string kind, string subject, string address, CancellationToken cancellationToken) =>
        store.RecordEventAsync(actor, kind, subject, new Dictionary<string, string> { ["address"] = address }, cancellationToken);

    private async Task<Entry> LoadAsync(string hash, CancellationToken cancellationToken)
    {
        var found = await store.FindTokenAsync(hash, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.Unauthenticated("The token is not known to this server (it may belong to another one).");
        var (token, owner) = found;
        var principal = await PrincipalForAsync(owner, token.Scope, token.Name, cancellationToken).ConfigureAwait(false);
        return new Entry(principal, token, owner.Disabled);
    }

    /// <summary>Says accounts, tokens or grants changed in the store: the next request reads the revision instead of waiting out the interval.</summary>
    public void Changed() => Interlocked.Exchange(ref _revisionCheckedAt, 0);

    // One caller at a time reads the revision; the others go on with what is cached, which is at most one interval old.
    private async ValueTask RefreshRevisionAsync(CancellationToken cancellationToken)
    {
        var checkedAt = Interlocked.Read(ref _revisionCheckedAt);
        if (checkedAt != long.MinValue && time.GetElapsedTime(checkedAt) < RevisionCheckInterval)
        {
            return;
        }

        // Before the first read everyone waits for it; after, a caller that finds a read under way does not.
        if (!await _revisionCheck.WaitAsync(checkedAt == long.MinValue ? Timeout.Infinite : 0, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            if (Interlocked.Read(ref _revisionCheckedAt) != checkedAt)
            {
                return;
            }

            var revision = await store.GetRevisionAsync(cancellationToken).ConfigureAwait(false);
            if (revision != _revision)
            {
                _tokens.Clear();
                _sessions.Clear();
                _revision = revision;
            }

            Interlocked.Exchange(ref _revisionCheckedAt, time.GetTimestamp());
        }
        finally
        {
            _revisionCheck.Release();
        }
    }

    // Last-used times are bookkeeping: written at most once a minute per token, off the request's path, and a failure is ignored.
    private void Touch(Entry entry, DateTimeOffset now)
    {
        var last = Interlocked.Read(ref entry.TouchedAt);
        var at = now.ToUnixTimeMilliseconds();
        if (at - last < (long)TouchInterval.TotalMilliseconds || Interlocked.CompareExchange(ref entry.TouchedAt, at, last) != last)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await store.TouchTokenAsync(entry.Token.Id, now, CancellationToken.None).ConfigureAwait(false);
            }
            catch (CairnException)
            {
                // The next use tries again.
                Interlocked.Exchange(ref entry.TouchedAt, last);
            }
        });
    }
}

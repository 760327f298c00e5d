using System.Security.Cryptography;
using System.Text;

namespace Cairn.Core.Identity;

/// <summary>An API token as stored: never its secret, only what identifies and limits it.</summary>
/// <param name="Id">Its public id (to list and revoke by).</param>
/// <param name="Owner">The user or service account it acts as.</param>
/// <param name="Name">What its owner called it, unique among the owner's live tokens.</param>
/// <param name="Scope">The most it may do, whatever its owner may (<see cref="TokenScopes"/>).</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="CreatedBy">Who made it.</param>
/// <param name="ExpiresAt">When it stops working, if ever.</param>
public sealed record ApiToken(string Id, string Owner, string Name, Role Scope, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? ExpiresAt)
{
    /// <summary>When it last authenticated a call (recorded at most once a minute).</summary>
    public DateTimeOffset? LastUsedAt { get; init; }

    /// <summary>When it was revoked, if it was.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Whether it authenticates at <paramref name="now"/>: not revoked and not expired.</summary>
    public bool IsLive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is not { } expires || expires > now);
}

/// <summary>A token just made: its record and its secret, which is shown this once and never stored.</summary>
/// <param name="Token">What is stored.</param>
/// <param name="Secret">What the holder sends as <c>Authorization: Bearer SECRET</c>.</param>
public sealed record IssuedToken(ApiToken Token, string Secret);

/// <summary>
/// Token scopes: a cap on the owner's roles, named as the role it stops at (<c>predict</c>, <c>viewer</c>, <c>editor</c>,
/// <c>maintainer</c>, <c>admin</c>) or by intent: <c>read</c> (viewer), <c>write</c> (maintainer), <c>all</c> (no cap).
/// </summary>
public static class TokenScopes
{
    /// <summary>Parses a scope.</summary>
    public static Role Parse(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "all" => Role.Admin,
        "write" => Role.Maintainer,
        "read" => Role.Viewer,
        "none" => throw CairnException.Invalid("A token with scope 'none' could do nothing; use predict, read, write or all."),
        _ => Roles.TryParse(text, out var role) ? role
            : throw CairnException.Invalid($"'{text}' is not a token scope: use predict (scoring only), read, write or all, or a role name."),
    };

    /// <summary>A scope's name: the role it stops at, or <c>all</c> for no cap.</summary>
    public static string Name(Role cap) => cap == Role.Admin ? "all" : Roles.Name(cap);
}

/// <summary>
/// The secret form of API tokens: <c>cairn_</c>, 30 random base-62 characters and a 6-character checksum (as GitHub's
/// tokens have), so secret scanners recognise a leaked one and a mistyped one is refused without a database read.
/// Only the secret's SHA-256 is ever stored.
/// </summary>
public static class TokenSecret
{
    /// <summary>What every token starts with.</summary>
    public const string Prefix = "cairn_";

    private const int RandomLength = 30;
    private const int ChecksumLength = 6;
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>The length of every token.</summary>
    public const int Length = 6 + RandomLength + ChecksumLength;

    /// <summary>A new secret with about 178 bits of randomness.</summary>
    public static string Generate()
    {
        var random = RandomNumberGenerator.GetString(Alphabet, RandomLength);
        return Prefix + random + Checksum(random);
    }

    /// <summary>Whether <paramref name="text"/> has a token's form and a correct checksum.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> text)
    {
        if (text.Length != Length || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var body = text.Slice(Prefix.Length, RandomLength);
        foreach (var c in text[Prefix.Length..])
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return text[(Prefix.Length + RandomLength)..].SequenceEqual(Checksum(body.ToString()));
    }

    /// <summary>The secret's SHA-256 in lowercase hex: what the store keeps and looks tokens up by.</summary>
    public static string Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    /// <summary>A new public token id: 12 hex characters.</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    // The first 32 bits of the body's SHA-256 written in base 62: a mistyped or truncated token fails it.
    private static string Checksum(string body)
    {
        var hash = SHA256.HashData(Encoding.ASCII.GetBytes(body));
        var value = BitConverter.ToUInt32(hash, 0);
        Span<char> digits = stackalloc char[ChecksumLength];
        for (var i = ChecksumLength - 1; i >= 0; i--)
        {
            digits[i] = Alphabet[(int)(value % 62)];
            value /= 62;
        }

        return new string(digits);
    }
}

/// <summary>A created account and, when one was asked for, its first token's secret (shown once).</summary>
public sealed record CreatedAccount(Account Account, string? Secret);

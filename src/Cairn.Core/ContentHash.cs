using System.Security.Cryptography;

namespace Cairn.Core;

/// <summary>A SHA-256 digest in lowercase hex: the address of an artifact and the identity of content.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(ContentHashJsonConverter))]
public readonly record struct ContentHash
{
    private ContentHash(string hex) => Hex = hex;

    /// <summary>The 64 lowercase hex characters.</summary>
    public string Hex { get; }

    /// <summary>Wraps a digest computed by SHA-256.</summary>
    public static ContentHash FromDigest(ReadOnlySpan<byte> digest)
    {
        if (digest.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"A SHA-256 digest has {SHA256.HashSizeInBytes} bytes, not {digest.Length}.", nameof(digest));
        }

        return new ContentHash(Convert.ToHexStringLower(digest));
    }

    /// <summary>Hashes a byte span.</summary>
    public static ContentHash Of(ReadOnlySpan<byte> content) => FromDigest(SHA256.HashData(content));

    /// <summary>Parses 64 hex characters (an optional <c>sha256:</c> prefix is accepted); anything else is rejected, so a hash can name a path safely.</summary>
    public static bool TryParse(string? text, out ContentHash hash)
    {
        hash = default;
        if (text is null)
        {
            return false;
        }

        var hex = text.StartsWith("sha256:", StringComparison.Ordinal) ? text[7..] : text;
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        hash = new ContentHash(hex.ToLowerInvariant());
        return true;
    }

    /// <summary>Parses a hash or throws a <see cref="CairnException"/> naming the bad text.</summary>
    public static ContentHash Parse(string text) =>
        TryParse(text, out var hash) ? hash : throw CairnException.Invalid($"'{text}' is not a SHA-256 content hash (64 hex characters).");

    /// <summary>The short form people read in tables.</summary>
    public string Short => Hex[..12];

    /// <inheritdoc />
    public override string ToString() => Hex;
}

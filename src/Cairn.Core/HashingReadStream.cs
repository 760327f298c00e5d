using System.Security.Cryptography;

namespace Cairn.Core;

/// <summary>
/// Reads a stream front to back while hashing it with SHA-256. Given an expected hash, reaching the end checks the
/// bytes against it and throws a <see cref="CairnException"/> (corrupt) on a mismatch.
/// </summary>
public sealed class HashingReadStream(Stream inner, ContentHash? expected = null, bool leaveOpen = false) : Stream
{
    private readonly IncrementalHash _hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private ContentHash? _hash;

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => inner.Length;

    /// <inheritdoc />
    public override long Position
    {
        get => inner.Position;
        set => throw new NotSupportedException("A hashing stream is read front to back.");
    }

    /// <summary>Reads whatever is left and returns the hash of every byte of the stream.</summary>
    public ContentHash Finish()
    {
        var buffer = new byte[64 * 1024];
        while (Read(buffer) > 0)
        {
        }

        return _hash!.Value;
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer) => Observe(buffer[..inner.Read(buffer)]);

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Observe(buffer.Span[..read]);
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!leaveOpen)
            {
                inner.Dispose();
            }

            _hasher.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Observe(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0)
        {
            _hasher.AppendData(data);
            return data.Length;
        }

        if (_hash is null)
        {
            _hash = ContentHash.FromDigest(_hasher.GetHashAndReset());
            if (expected is { } wanted && _hash != wanted)
            {
                throw new CairnException(ErrorCode.Corrupt, $"Artifact sha256:{wanted} is corrupt: its bytes hash to sha256:{_hash}.");
            }
        }

        return 0;
    }
}

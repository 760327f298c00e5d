using System.Security.Cryptography;
using Cairn.Core;

namespace Cairn.Adapters.FileSystem;

/// <summary>Reads a blob and, on reaching its end, checks the bytes against the hash they are stored under.</summary>
internal sealed class VerifyingReadStream(Stream inner, ContentHash expected) : Stream
{
    private readonly IncrementalHash _hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _verified;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => throw new NotSupportedException("Artifact streams are read front to back so that they can be verified.");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        return Observe(buffer[..read]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Observe(buffer.Span[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
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

        if (!_verified)
        {
            _verified = true;
            var actual = ContentHash.FromDigest(_hasher.GetHashAndReset());
            if (actual != expected)
            {
                throw new CairnException(ErrorCode.Corrupt, $"Artifact sha256:{expected} is corrupt: its bytes hash to sha256:{actual}.");
            }
        }

        return 0;
    }
}

using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Cairn.Server;

/// <summary>A request's whole body in a buffer borrowed from the shared pool, returned on dispose.</summary>
internal readonly struct RequestBody : IDisposable
{
    private readonly byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    /// <summary>The body's length in bytes.</summary>
    public int Length { get; }

    /// <summary>The body.</summary>
    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>The body as a read-only stream.</summary>
    public Stream AsStream() => new MemoryStream(_buffer, 0, Length, writable: false);

    /// <summary>Reads the body to its end; its size is bounded by the server's request body limit.</summary>
    public static async ValueTask<RequestBody> ReadAsync(HttpContext http)
    {
        var stream = http.Request.Body;
        // One byte more than the declared length, so a single read both fills the buffer and sees the end.
        var buffer = ArrayPool<byte>.Shared.Rent(http.Request.ContentLength is { } declared and > 0 and < int.MaxValue - 1 ? (int)declared + 1 : 4096);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), http.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    return new RequestBody(buffer, length);
                }

                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }
}

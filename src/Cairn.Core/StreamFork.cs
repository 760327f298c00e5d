using System.Buffers;
using System.Threading.Channels;

namespace Cairn.Core;

/// <summary>
/// Lets two consumers share one pass over a stream: whatever <see cref="Primary"/> reads is also handed, copied, to
/// <see cref="Secondary"/>, which another thread reads at its own pace, at most <c>capacity</c> chunks behind.
/// So a file can be stored and parsed with a single read, each on its own core.
/// </summary>
public sealed class StreamFork : IDisposable
{
    private readonly Channel<Chunk> _chunks;
    private readonly Stream _source;

    /// <summary>Forks <paramref name="source"/>; the secondary lags the primary by at most <paramref name="capacity"/> reads.</summary>
    public StreamFork(Stream source, int capacity = 64)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        Primary = new PrimaryStream(this);
        Secondary = new SecondaryStream(_chunks.Reader);
    }

    /// <summary>The stream the leading consumer reads; reading it to the end ends the secondary too.</summary>
    public Stream Primary { get; }

    /// <summary>The same bytes for a second consumer on another thread; its reads block until the primary has read ahead.</summary>
    public Stream Secondary { get; }

    /// <summary>
    /// Work the primary's end waits for: its last read (the one that returns 0) completes only when this task has,
    /// and fails if it fails. So a consumer that commits on reaching the end commits only what the secondary accepted.
    /// </summary>
    public Task? EndGate { get; set; }

    /// <summary>Ends the secondary early, with <paramref name="error"/> if the primary could not finish.</summary>
    public void Complete(Exception? error = null) => _chunks.Writer.TryComplete(error);

    /// <inheritdoc />
    public void Dispose()
    {
        Complete();
        while (_chunks.Reader.TryRead(out var chunk))
        {
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
        }
    }

    private async ValueTask<int> ReadPrimaryAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = await _source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            Complete();
            if (EndGate is { } gate)
            {
                await gate.ConfigureAwait(false);
            }

            return 0;
        }

        var copy = ArrayPool<byte>.Shared.Rent(read);
        buffer.Span[..read].CopyTo(copy);
        await _chunks.Writer.WriteAsync(new Chunk(copy, read), cancellationToken).ConfigureAwait(false);
        return read;
    }

    private readonly record struct Chunk(byte[] Buffer, int Length);

    private abstract class ReadOnlyStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class PrimaryStream(StreamFork fork) : ReadOnlyStream
    {
        public override int Read(Span<byte> buffer)
        {
            var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
            try
            {
                var read = fork.ReadPrimaryAsync(rented.AsMemory(0, buffer.Length), CancellationToken.None).AsTask().GetAwaiter().GetResult();
                rented.AsSpan(0, read).CopyTo(buffer);
                return read;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            fork.ReadPrimaryAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            fork.ReadPrimaryAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    private sealed class SecondaryStream(ChannelReader<Chunk> chunks) : ReadOnlyStream
    {
        private Chunk _current;
        private int _offset;

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }

            while (_current.Buffer is null || _offset == _current.Length)
            {
                if (_current.Buffer is { } spent)
                {
                    ArrayPool<byte>.Shared.Return(spent);
                    _current = default;
                }

                if (chunks.TryRead(out var next))
                {
                    (_current, _offset) = (next, 0);
                }
                else if (!chunks.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    // The primary reached the end (or failed, which WaitToReadAsync has thrown).
                    return 0;
                }
            }

            var count = Math.Min(buffer.Length, _current.Length - _offset);
            _current.Buffer.AsSpan(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }
    }
}

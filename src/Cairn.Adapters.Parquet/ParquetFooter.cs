using System.Buffers.Binary;
using System.Globalization;
using Cairn.Core;

namespace Cairn.Adapters.Parquet;

/// <summary>
/// Checks a Parquet file's footer before Parquet.Net reads it. Parquet.Net builds the schema tree by recursion, so a
/// file of a hundred kilobytes whose schema nests ten thousand groups deep overflows the stack and ends the process,
/// which no exception handler can stop. This reads the footer's schema list (Thrift compact protocol) without
/// recursion and refuses a schema nested deeper than <see cref="MaxDepth"/>, or a footer larger than
/// <see cref="MaxFooterBytes"/>, before Parquet.Net sees the file.
/// </summary>
internal static class ParquetFooter
{
    /// <summary>The deepest schema nesting accepted; Cairn's tables are flat columns, so a few levels is plenty.</summary>
    public const int MaxDepth = 32;

    /// <summary>The largest footer accepted.</summary>
    public const int MaxFooterBytes = 64 << 20;

    // Thrift compact protocol element types.
    private const int BooleanTrue = 1;
    private const int BooleanFalse = 2;
    private const int Byte = 3;
    private const int I16 = 4;
    private const int I32 = 5;
    private const int I64 = 6;
    private const int Double = 7;
    private const int Binary = 8;
    private const int List = 9;
    private const int Set = 10;
    private const int Map = 11;
    private const int Struct = 12;

    /// <summary>Throws <see cref="ErrorCode.InvalidArgument"/> when the file's footer is too large or its schema nests too deep; leaves the stream where it was.</summary>
    public static void Check(Stream file)
    {
        if (!file.CanSeek)
        {
            return;
        }

        var start = file.Position;
        try
        {
            if (file.Length < 12)
            {
                throw Invalid("it is shorter than a Parquet file's header and footer");
            }

            Span<byte> tail = stackalloc byte[8];
            file.Seek(-8, SeekOrigin.End);
            file.ReadExactly(tail);
            var length = BinaryPrimitives.ReadInt32LittleEndian(tail);
            if (!tail[4..].SequenceEqual("PAR1"u8))
            {
                throw Invalid("it does not end with the Parquet magic bytes PAR1");
            }

            if (length <= 0 || length > file.Length - 12 || length > MaxFooterBytes)
            {
                throw Invalid(string.Create(CultureInfo.InvariantCulture, $"its footer claims {length:N0} bytes (at most {MaxFooterBytes:N0} and less than the file are read)"));
            }

            var footer = new byte[length];
            file.Seek(-8 - length, SeekOrigin.End);
            file.ReadExactly(footer);
            CheckSchemaDepth(footer);
        }
        finally
        {
            file.Position = start;
        }
    }

    // FileMetaData is a struct whose field 2 is list<SchemaElement>, in depth-first order; an element's field 5 is its
    // number of children. The nesting is tracked with a stack of the children still expected at each open level.
    private static void CheckSchemaDepth(byte[] footer)
    {
        var reader = new CompactReader(footer);
        short id = 0;
        while (reader.NextField(ref id) is var type && type != 0)
        {
            if (id != 2 || type != List)
            {
                reader.Skip(type);
                continue;
            }

            var (elementType, count) = reader.ListHeader();
            var open = new Stack<int>();
            for (var i = 0; i < count; i++)
            {
                if (elementType != Struct)
                {
                    throw Invalid("its schema is not a list of elements");
                }

                var children = ReadChildren(ref reader);
                while (open.Count > 0 && open.Peek() == 0)
                {
                    open.Pop();
                }

                if (open.Count > 0)
                {
                    open.Push(open.Pop() - 1);
                }

                if (children > 0)
                {
                    open.Push(children);
                    if (open.Count > MaxDepth + 1)
                    {
                        throw Invalid(string.Create(CultureInfo.InvariantCulture, $"its schema nests groups deeper than {MaxDepth} levels"));
                    }
                }
            }

            return;
        }
    }

    private static int ReadChildren(ref CompactReader reader)
    {
        var children = 0;
        short id = 0;
        while (reader.NextField(ref id) is var type && type != 0)
        {
            if (id == 5 && type == I32)
            {
                children = reader.Int32();
                if (children < 0)
                {
                    throw Invalid("a schema element has a negative number of children");
                }
            }
            else
            {
                reader.Skip(type);
            }
        }

        return children;
    }

    private static CairnException Invalid(string reason) => CairnException.Invalid($"The file is not a readable Parquet file: {reason}.");

    // Just enough of the Thrift compact protocol to walk a struct's fields and skip what is not needed; skipping
    // nested containers keeps its own depth count, so a hostile footer cannot recurse without bound here either.
    private ref struct CompactReader(ReadOnlySpan<byte> bytes)
    {
        private const int MaxSkipDepth = 64;
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _position;

        // The next field's type (0 at the struct's end); id carries the previous field id in and the new one out.
        public int NextField(ref short id)
        {
            var header = Byte1();
            if (header == 0)
            {
                return 0;
            }

            var delta = header >> 4;
            id = delta != 0 ? (short)(id + delta) : (short)ZigZag(Varint());
            return header & 0x0f;
        }

        public (int ElementType, int Count) ListHeader()
        {
            var header = Byte1();
            var count = header >> 4;
            if (count == 15)
            {
                count = checked((int)Varint());
            }

            if (count < 0 || count > _bytes.Length)
            {
                throw Invalid("a list in its footer is longer than the footer");
            }

            return (header & 0x0f, count);
        }

        public int Int32() => (int)ZigZag(Varint());

        public void Skip(int type, int depth = 0)
        {
            if (depth > MaxSkipDepth)
            {
                throw Invalid("its footer nests structures too deep");
            }

            switch (type)
            {
                case BooleanTrue or BooleanFalse:
                    break;
                case Byte:
                    Byte1();
                    break;
                case I16 or I32 or I64:
                    Varint();
                    break;
                case Double:
                    Advance(8);
                    break;
                case Binary:
                    Advance(checked((int)Varint()));
                    break;
                case List or Set:
                    var (elementType, count) = ListHeader();
                    for (var i = 0; i < count; i++)
                    {
                        // Booleans in a list are one byte each, not folded into a header.
                        if (elementType is BooleanTrue or BooleanFalse)
                        {
                            Byte1();
                        }
                        else
                        {
                            Skip(elementType, depth + 1);
                        }
                    }

                    break;
                case Map:
                    var entries = checked((int)Varint());
                    if (entries > 0)
                    {
                        var types = Byte1();
                        for (var i = 0; i < entries; i++)
                        {
                            Skip(types >> 4, depth + 1);
                            Skip(types & 0x0f, depth + 1);
                        }
                    }

                    break;
                case Struct:
                    short id = 0;
                    while (NextField(ref id) is var fieldType && fieldType != 0)
                    {
                        Skip(fieldType, depth + 1);
                    }

                    break;
                default:
                    throw Invalid(string.Create(CultureInfo.InvariantCulture, $"its footer holds an unknown Thrift type {type}"));
            }
        }

        private byte Byte1() => _position < _bytes.Length ? _bytes[_position++] : throw Invalid("its footer ends early");

        private void Advance(int count)
        {
            if (count < 0 || _position + count > _bytes.Length)
            {
                throw Invalid("its footer ends early");
            }

            _position += count;
        }

        private ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Byte1();
                value |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return value;
                }
            }

            throw Invalid("its footer holds a malformed number");
        }

        private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);
    }
}

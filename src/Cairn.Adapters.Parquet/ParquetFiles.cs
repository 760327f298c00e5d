using System.Globalization;
using System.Text;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Ports;
using Parquet;
using Parquet.Schema;

namespace Cairn.Adapters.Parquet;

/// <summary>Reads Parquet files with Parquet.Net, one row group at a time.</summary>
public sealed class ParquetFiles : IParquetFiles
{
    /// <inheritdoc />
    public IRecordReader Open(Stream file)
    {
        ArgumentNullException.ThrowIfNull(file);
        try
        {
            ParquetFooter.Check(file);
            return new ParquetRecordReader(ParquetReader.CreateAsync(file, leaveStreamOpen: false).GetAwaiter().GetResult());
        }
        catch (CairnException)
        {
            file.Dispose();
            throw;
        }
        catch (Exception e) when (e is not CairnException and (IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException))
        {
            file.Dispose();
            throw CairnException.Invalid($"The file is not a readable Parquet file: {e.Message}");
        }
    }

    /// <inheritdoc />
    public IParquetWriter Create(Stream file, IReadOnlyList<ParquetColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(columns);
        DataField[] fields = [.. columns.Select(c => c.Numeric ? (DataField)new DataField<double?>(c.Name) : new DataField<string>(c.Name))];
        return new ParquetTableWriter(ParquetWriter.CreateAsync(new ParquetSchema(fields), file).GetAwaiter().GetResult(), fields, file);
    }

    private sealed class ParquetTableWriter(ParquetWriter writer, DataField[] fields, Stream file) : IParquetWriter
    {
        public void WriteRowGroup(IReadOnlyList<Array> columns)
        {
            using var group = writer.CreateRowGroup();
            for (var c = 0; c < fields.Length; c++)
            {
                var written = columns[c] switch
                {
                    double?[] numbers => group.WriteAsync<double>(fields[c], numbers.AsMemory(), null, null, CancellationToken.None),
                    string?[] texts => group.WriteAsync(fields[c], texts!, null),
                    _ => throw new ArgumentException($"Column {fields[c].Name} must be double?[] or string?[].", nameof(columns)),
                };
                written.GetAwaiter().GetResult();
            }

            group.CompleteValidate();
        }

        // Finishing the writer writes the footer; the file is closed after it.
        public void Dispose()
        {
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            file.Dispose();
        }
    }

    private sealed class ParquetRecordReader : IRecordReader
    {
        private readonly ParquetReader _reader;
        private readonly DataField[] _fields;
        private readonly EncodedColumn[] _columns;
        private int _group = -1;
        private long _groupRows;
        private long _row = -1;

        public ParquetRecordReader(ParquetReader reader)
        {
            _reader = reader;
            var nested = reader.Schema.Fields.Where(f => f is not DataField || ((DataField)f).IsArray).Select(f => f.Name).ToList();
            if (nested.Count > 0)
            {
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw CairnException.Invalid($"The Parquet file has nested or repeated columns ({string.Join(", ", nested)}); only flat columns are supported.");
            }

            _fields = reader.Schema.GetDataFields();
            Header = [.. _fields.Select(f => f.Name)];
            _columns = [.. _fields.Select(_ => new EncodedColumn())];
        }

        public IReadOnlyList<string> Header { get; }

        public long RecordCount { get; private set; }

        public bool TryRead()
        {
            while (++_row >= _groupRows)
            {
                if (++_group >= _reader.RowGroupCount)
                {
                    _row = _groupRows;
                    return false;
                }

                LoadGroup(_group);
                _row = -1;
            }

            RecordCount++;
            return true;
        }

        public ReadOnlySpan<byte> Field(int index) => _columns[index].Cell((int)_row);

        public string GetString(int index) => Encoding.UTF8.GetString(Field(index));

        public void Dispose() => _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();

        private void LoadGroup(int group)
        {
            using var rowGroup = _reader.OpenRowGroupReader(group);
            _groupRows = rowGroup.RowCount;
            var rows = checked((int)rowGroup.RowCount);
            for (var i = 0; i < _fields.Length; i++)
            {
                _columns[i].Load(rowGroup, _fields[i], rows);
            }
        }
    }

    // One column of a row group as UTF-8 cells in one buffer; a null is an empty cell, which Cairn reads as missing.
    private sealed class EncodedColumn
    {
        private byte[] _bytes = new byte[1 << 16];
        private int[] _starts = [];
        private int _length;

        public ReadOnlySpan<byte> Cell(int row) => _bytes.AsSpan(_starts[row], _starts[row + 1] - _starts[row]);

        public void Load(ParquetRowGroupReader rowGroup, DataField field, int rows)
        {
            _starts = _starts.Length >= rows + 1 ? _starts : new int[rows + 1];
            _length = 0;
            var type = Nullable.GetUnderlyingType(field.ClrType) ?? field.ClrType;
            switch (type)
            {
                case var t when t == typeof(string) || t == typeof(ReadOnlyMemory<char>):
                {
                    var values = new string?[rows];
                    rowGroup.ReadAsync(field, values.AsMemory(), null, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                    for (var r = 0; r < rows; r++)
                    {
                        _starts[r] = _length;
                        if (values[r] is { } text)
                        {
                            Reserve(Encoding.UTF8.GetMaxByteCount(text.Length));
                            _length += Encoding.UTF8.GetBytes(text, _bytes.AsSpan(_length));
                        }
                    }

                    break;
                }

                case var t when t == typeof(bool):
                    Encode(Read<bool>(rowGroup, field, rows), (bool v, Span<byte> d, out int n) =>
                    {
                        var text = v ? "true"u8 : "false"u8;
                        n = text.Length;
                        return text.TryCopyTo(d);
                    });
                    break;
                case var t when t == typeof(double):
                    EncodeFormattable(Read<double>(rowGroup, field, rows), "R");
                    break;
                case var t when t == typeof(float):
                    EncodeFormattable(Read<float>(rowGroup, field, rows), "R");
                    break;
                case var t when t == typeof(decimal):
                    EncodeFormattable(Read<decimal>(rowGroup, field, rows), null);
                    break;
                case var t when t == typeof(long):
                    EncodeFormattable(Read<long>(rowGroup, field, rows), null);
                    break;
                case var t when t == typeof(int):
                    EncodeFormattable(Read<int>(rowGroup, field, rows), null);
                    break;
                case var t when t == typeof(short):
                    EncodeFormattable(Read<short>(rowGroup, field, rows), null);
                    break;
                case var t when t == typeof(sbyte):
                    EncodeFormattable(Read<sbyte>(rowGroup, field, rows), null);
                    break;
                case var t when t == typeof(byte):
                    EncodeFormattable(Read<byte>(rowGroup, field, rows), null);
                    break;
                case var t when t == typeof(ulong):
                    EncodeFormattable(Read<ulong>(rowGroup, field, rows), null);
                    break;
                case var t when t == typeof(uint):
                    EncodeFormattable(Read<uint>(rowGroup, field, rows), null);
                    break;
                case var t when t == typeof(ushort):
                    EncodeFormattable(Read<ushort>(rowGroup, field, rows), null);
                    break;
                case var t when t == typeof(DateTime):
                    EncodeFormattable(Read<DateTime>(rowGroup, field, rows), "yyyy-MM-ddTHH:mm:ss.FFFFFFFK");
                    break;
                case var t when t == typeof(DateTimeOffset):
                    EncodeFormattable(Read<DateTimeOffset>(rowGroup, field, rows), "yyyy-MM-ddTHH:mm:ss.FFFFFFFK");
                    break;
                case var t when t == typeof(DateOnly):
                    EncodeFormattable(Read<DateOnly>(rowGroup, field, rows), "yyyy-MM-dd");
                    break;
                default:
                    throw CairnException.Invalid($"Parquet column '{field.Name}' has type {type.Name}, which Cairn does not read.");
            }

            _starts[rows] = _length;
        }

        private static T?[] Read<T>(ParquetRowGroupReader rowGroup, DataField field, int rows)
            where T : struct
        {
            var values = new T?[rows];
            if (field.IsNullable)
            {
                rowGroup.ReadAsync(field, values.AsMemory(), null, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                return values;
            }

            var plain = new T[rows];
            rowGroup.ReadAsync(field, plain.AsMemory(), null, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            for (var r = 0; r < rows; r++)
            {
                values[r] = plain[r];
            }

            return values;
        }

        private void EncodeFormattable<T>(T?[] values, string? format)
            where T : struct, IUtf8SpanFormattable =>
            Encode(values, (T v, Span<byte> d, out int n) => v.TryFormat(d, out n, format, CultureInfo.InvariantCulture));

        private void Encode<T>(T?[] values, Formatter<T> format)
            where T : struct
        {
            for (var r = 0; r < values.Length; r++)
            {
                _starts[r] = _length;
                if (values[r] is not { } value)
                {
                    continue;
                }

                int written;
                while (!format(value, _bytes.AsSpan(_length), out written))
                {
                    Reserve(_bytes.Length);
                }

                _length += written;
            }
        }

        private void Reserve(int bytes)
        {
            if (_length + bytes > _bytes.Length)
            {
                Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + bytes));
            }
        }

        private delegate bool Formatter<in T>(T value, Span<byte> destination, out int written);
    }
}

using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Cairn.Core.Data;

/// <summary>
/// Reads RFC 4180 CSV in UTF-8: comma separated, fields optionally quoted with '"' (a doubled quote escapes one),
/// quoted fields may hold commas and line breaks, lines end with \n or \r\n. Blank lines are skipped; a leading
/// byte-order mark is ignored. Every record must have the header's field count, and invalid UTF-8 is reported, not replaced.
/// </summary>
/// <remarks>
/// Records are scanned in the file's own bytes: after <see cref="TryRead()"/> each field is a span over the buffer
/// (<see cref="Field"/>), valid until the next read, so callers that need no strings allocate none.
/// </remarks>
public sealed class CsvReader : IRecordReader
{
    private static readonly SearchValues<byte> FieldEnds = SearchValues.Create(",\n\r"u8);

    /// <summary>
    /// The longest record read by default, in bytes: 4 MiB, or CAIRN_CSV_MAX_RECORD_MIB. A record is held whole in
    /// memory while it is scanned, so without a bound one line with no break would take as much memory as the file.
    /// </summary>
    public static int DefaultMaxRecordBytes { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("CAIRN_CSV_MAX_RECORD_MIB"), out var mib) && mib is > 0 and <= 1024 ? mib << 20 : 4 << 20;

    private readonly Stream _stream;
    private readonly int _maxRecordBytes;
    private readonly List<string> _header;
    private byte[] _buffer = new byte[1 << 20];
    private byte[] _unquoted = new byte[4096];
    private FieldSlice[] _fields = new FieldSlice[64];
    private int _fieldCount;
    private int _position;
    private int _length;
    private bool _endOfStream;
    private long _line = 1;

    private CsvReader(Stream stream, int maxRecordBytes)
    {
        _stream = stream;
        _maxRecordBytes = maxRecordBytes;
        Fill();
        if (_length >= 3 && _buffer.AsSpan(0, 3).SequenceEqual("\uFEFF"u8))
        {
            _position = 3;
        }

        if (!ReadRecord())
        {
            throw CairnException.Invalid("The CSV file is empty: it has no header row.");
        }

        _header = [.. Enumerable.Range(0, _fieldCount).Select(GetString)];
        ValidateHeader(_header);
    }

    /// <summary>Opens a reader over UTF-8 bytes and reads the header row; a record longer than <paramref name="maxRecordBytes"/> is an error.</summary>
    public static CsvReader Open(Stream stream, int? maxRecordBytes = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new CsvReader(stream, maxRecordBytes ?? DefaultMaxRecordBytes);
    }

    /// <summary>The column names, in file order.</summary>
    public IReadOnlyList<string> Header => _header;

    /// <summary>How many data records have been read so far.</summary>
    public long RecordCount { get; private set; }

    /// <summary>The line on which the current record started.</summary>
    public long RecordLine { get; private set; }

    /// <summary>Field <paramref name="index"/> of the current record, unquoted; valid until the next read.</summary>
    public ReadOnlySpan<byte> Field(int index)
    {
        var slice = _fields[index];
        return (slice.Unquoted ? _unquoted : _buffer).AsSpan(slice.Start, slice.Length);
    }

    /// <summary>Field <paramref name="index"/> of the current record as a string.</summary>
    public string GetString(int index) => Encoding.UTF8.GetString(Field(index));

    /// <summary>Advances to the next record, whose fields <see cref="Field"/> then reads; false at the end of input.</summary>
    public bool TryRead()
    {
        if (!ReadRecord())
        {
            return false;
        }

        RecordCount++;
        if (_fieldCount != _header.Count)
        {
            throw CairnException.Invalid(
                $"CSV row {RecordCount} (line {RecordLine}) has {_fieldCount} fields, but the header has {_header.Count}.");
        }

        return true;
    }

    /// <summary>Reads the next record as strings; false at the end of input.</summary>
    public bool TryRead(out string[] record)
    {
        if (!TryRead())
        {
            record = [];
            return false;
        }

        record = new string[_fieldCount];
        for (var i = 0; i < record.Length; i++)
        {
            record[i] = GetString(i);
        }

        return true;
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();

    private static void ValidateHeader(List<string> header)
    {
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < header.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(header[i]))
            {
                problems.Add($"column {i + 1} has an empty name");
            }
            else if (!seen.Add(header[i]))
            {
                problems.Add($"column name '{header[i]}' appears more than once");
            }
        }

        if (problems.Count > 0)
        {
            throw CairnException.Invalid($"The CSV header is not valid: {string.Join("; ", problems)}.");
        }
    }

    // Scans one record into _fields. A record that runs past the buffered bytes is rescanned from its start once
    // more bytes are in, so the scan itself never has to resume mid-field.
    private bool ReadRecord()
    {
        while (true)
        {
            SkipBlankLines();
            if (_position >= _length && !Fill())
            {
                return false;
            }

            if (_buffer[_position] is (byte)'\n' or (byte)'\r')
            {
                continue;
            }

            var start = _position;
            var startLine = _line;
            if (TryScanRecord(out var end))
            {
                if (!Utf8.IsValid(_buffer.AsSpan(start, end - start)))
                {
                    throw CairnException.Invalid($"The CSV file is not valid UTF-8 in the record starting at line {startLine}.");
                }

                RecordLine = startLine;
                _position = end;
                return true;
            }

            // Not enough bytes for the whole record: keep its start, read more and scan it again.
            _position = start;
            _line = startLine;
            if (!Fill())
            {
                // Only an unclosed quote leaves a record unfinished at the end of input.
                throw CairnException.Invalid($"CSV row starting at line {startLine} has a quoted field that is never closed.");
            }
        }
    }

    private void SkipBlankLines()
    {
        while (true)
        {
            while (_position < _length)
            {
                var b = _buffer[_position];
                if (b == '\n')
                {
                    _line++;
                }
                else if (b != '\r')
                {
                    return;
                }

                _position++;
            }

            if (!Fill())
            {
                return;
            }
        }
    }

    // Scans the fields of the record at _position; false when the buffered bytes end before the record does
    // (and more may come). On success, end is the position after its line break.
    private bool TryScanRecord(out int end)
    {
        _fieldCount = 0;
        var unquotedLength = 0;
        var position = _position;
        end = position;
        while (true)
        {
            int fieldEnd;
            if (position < _length && _buffer[position] == '"')
            {
                if (!TryScanQuoted(position + 1, ref unquotedLength, out fieldEnd))
                {
                    return false;
                }
            }
            else
            {
                var found = _buffer.AsSpan(position, _length - position).IndexOfAny(FieldEnds);
                if (found < 0 && !_endOfStream)
                {
                    return false;
                }

                fieldEnd = found < 0 ? _length : position + found;
                AddField(new FieldSlice(position, fieldEnd - position, false));
            }

            if (fieldEnd >= _length)
            {
                if (!_endOfStream)
                {
                    return false;
                }

                end = _length;
                _line++;
                return true;
            }

            var separator = _buffer[fieldEnd];
            if (separator == ',')
            {
                position = fieldEnd + 1;
                continue;
            }

            if (separator == '\r')
            {
                if (fieldEnd + 1 >= _length && !_endOfStream)
                {
                    return false;
                }

                end = fieldEnd + 1 < _length && _buffer[fieldEnd + 1] == '\n' ? fieldEnd + 2 : fieldEnd + 1;
            }
            else
            {
                end = fieldEnd + 1;
            }

            _line++;
            return true;
        }
    }

    // Scans a quoted field whose content starts at position; fieldEnd is the position after the closing quote.
    private bool TryScanQuoted(int position, ref int unquotedLength, out int fieldEnd)
    {
        var contentStart = position;
        var escaped = false;
        while (true)
        {
            var quote = _buffer.AsSpan(position, _length - position).IndexOf((byte)'"');
            if (quote < 0)
            {
                fieldEnd = _length;
                return false;
            }

            _line += _buffer.AsSpan(position, quote).Count((byte)'\n');
            position += quote + 1;
            if (position >= _length && !_endOfStream)
            {
                fieldEnd = _length;
                return false;
            }

            if (position < _length && _buffer[position] == '"')
            {
                escaped = true;
                position++;
                continue;
            }

            break;
        }

        fieldEnd = position;
        if (fieldEnd < _length && _buffer[fieldEnd] is not ((byte)',' or (byte)'\n' or (byte)'\r'))
        {
            throw CairnException.Invalid($"CSV line {_line} has text after a closing quote; a quote inside a quoted field must be doubled.");
        }

        var content = _buffer.AsSpan(contentStart, position - 1 - contentStart);
        if (!escaped)
        {
            AddField(new FieldSlice(contentStart, content.Length, false));
            return true;
        }

        // Doubled quotes are collapsed into a side buffer so the field still reads as one span.
        if (_unquoted.Length < unquotedLength + content.Length)
        {
            Array.Resize(ref _unquoted, Math.Max(_unquoted.Length * 2, unquotedLength + content.Length));
        }

        var start = unquotedLength;
        for (var i = 0; i < content.Length; i++)
        {
            _unquoted[unquotedLength++] = content[i];
            if (content[i] == '"')
            {
                i++;
            }
        }

        AddField(new FieldSlice(start, unquotedLength - start, true));
        return true;
    }

    private void AddField(FieldSlice slice)
    {
        if (_fieldCount == _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }

        _fields[_fieldCount++] = slice;
    }

    // Moves the unread bytes to the front (growing the buffer when a single record fills it) and reads more;
    // true when that changed anything: bytes arrived, or the end of input was found.
    private bool Fill()
    {
        if (_endOfStream)
        {
            return false;
        }

        var kept = _length - _position;
        if (kept == _buffer.Length)
        {
            if (_buffer.Length >= _maxRecordBytes)
            {
                throw CairnException.Invalid(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"The CSV record starting at line {_line} is longer than the limit of {_maxRecordBytes >> 20} MiB (CAIRN_CSV_MAX_RECORD_MIB); is the file CSV with line breaks?"));
            }

            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, Math.Max(_maxRecordBytes, _buffer.Length)));
        }
        else if (_position > 0)
        {
            _buffer.AsSpan(_position, kept).CopyTo(_buffer);
        }

        _position = 0;
        _length = kept;
        var read = _stream.ReadAtLeast(_buffer.AsSpan(_length), _buffer.Length - _length, throwOnEndOfStream: false);
        _length += read;
        _endOfStream = _length < _buffer.Length;
        return read > 0 || _endOfStream;
    }

    private readonly record struct FieldSlice(int Start, int Length, bool Unquoted);
}

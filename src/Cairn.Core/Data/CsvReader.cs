using System.Text;

namespace Cairn.Core.Data;

/// <summary>
/// Reads RFC 4180 CSV: comma separated, fields optionally quoted with '"' (a doubled quote escapes one),
/// quoted fields may hold commas and line breaks, lines end with \n or \r\n. Blank lines are skipped.
/// Every record must have the header's field count.
/// </summary>
public sealed class CsvReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly StringBuilder _field = new();
    private readonly List<string> _fields = [];
    private readonly char[] _buffer = new char[64 * 1024];
    private int _position;
    private int _length;
    private long _line = 1;

    /// <summary>Opens a reader and reads the header row.</summary>
    public CsvReader(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        _reader = reader;
        Header = ReadRawRecord() ?? throw CairnException.Invalid("The CSV file is empty: it has no header row.");
        ValidateHeader(Header);
    }

    /// <summary>Opens a UTF-8 file; invalid UTF-8 is reported, not replaced.</summary>
    public static CsvReader Open(Stream stream) =>
        new(new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024));

    /// <summary>The column names, in file order.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>How many data records have been read so far.</summary>
    public long RecordCount { get; private set; }

    /// <summary>Reads the next record; false at the end of input.</summary>
    public bool TryRead(out string[] record)
    {
        var startLine = _line;
        var fields = ReadRawRecord();
        if (fields is null)
        {
            record = [];
            return false;
        }

        RecordCount++;
        if (fields.Length != Header.Count)
        {
            throw CairnException.Invalid(
                $"CSV row {RecordCount} (line {startLine}) has {fields.Length} fields, but the header has {Header.Count}.");
        }

        record = fields;
        return true;
    }

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();

    private static void ValidateHeader(IReadOnlyList<string> header)
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

    private string[]? ReadRawRecord()
    {
        while (true)
        {
            if (!EnsureData())
            {
                return null;
            }

            // Skip blank lines between records.
            var c = _buffer[_position];
            if (c == '\n')
            {
                _position++;
                _line++;
                continue;
            }

            if (c == '\r')
            {
                _position++;
                continue;
            }

            break;
        }

        _fields.Clear();
        var recordLine = _line;
        while (true)
        {
            var ended = ReadField(recordLine);
            _fields.Add(_field.ToString());
            _field.Clear();
            if (ended)
            {
                return [.. _fields];
            }
        }
    }

    // Reads one field; returns true when it ended its record.
    private bool ReadField(long recordLine)
    {
        if (EnsureData() && _buffer[_position] == '"')
        {
            _position++;
            while (true)
            {
                if (!EnsureData())
                {
                    throw CairnException.Invalid($"CSV row starting at line {recordLine} has a quoted field that is never closed.");
                }

                var c = _buffer[_position++];
                if (c == '"')
                {
                    if (EnsureData() && _buffer[_position] == '"')
                    {
                        _field.Append('"');
                        _position++;
                        continue;
                    }

                    break;
                }

                if (c == '\n')
                {
                    _line++;
                }

                _field.Append(c);
            }

            // After a closing quote only a separator or the end of the line may follow.
            if (!EnsureData())
            {
                return true;
            }

            var next = _buffer[_position];
            if (next is not (',' or '\n' or '\r'))
            {
                throw CairnException.Invalid($"CSV line {_line} has text after a closing quote; a quote inside a quoted field must be doubled.");
            }
        }

        while (EnsureData())
        {
            var start = _position;
            while (_position < _length)
            {
                var c = _buffer[_position];
                if (c == ',')
                {
                    _field.Append(_buffer, start, _position - start);
                    _position++;
                    return false;
                }

                if (c == '\n')
                {
                    _field.Append(_buffer, start, _position - start);
                    _position++;
                    _line++;
                    return true;
                }

                if (c == '\r')
                {
                    _field.Append(_buffer, start, _position - start);
                    _position++;
                    if (EnsureData() && _buffer[_position] == '\n')
                    {
                        _position++;
                    }

                    _line++;
                    return true;
                }

                _position++;
            }

            _field.Append(_buffer, start, _position - start);
        }

        return true;
    }

    private bool EnsureData()
    {
        if (_position < _length)
        {
            return true;
        }

        try
        {
            _length = _reader.Read(_buffer, 0, _buffer.Length);
        }
        catch (DecoderFallbackException e)
        {
            throw new CairnException(ErrorCode.InvalidArgument, $"The CSV file is not valid UTF-8 near line {_line}.", e);
        }

        _position = 0;
        return _length > 0;
    }
}

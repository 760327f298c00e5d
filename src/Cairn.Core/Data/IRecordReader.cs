namespace Cairn.Core.Data;

/// <summary>
/// Reads a table record by record: a header, then records whose fields are UTF-8 spans valid until the next read.
/// A CSV file (<see cref="CsvReader"/>), a Parquet file and a folder of them (<see cref="RecordChain"/>) all read this way.
/// </summary>
public interface IRecordReader : IDisposable
{
    /// <summary>The column names, in order.</summary>
    IReadOnlyList<string> Header { get; }

    /// <summary>How many records have been read so far.</summary>
    long RecordCount { get; }

    /// <summary>Advances to the next record; false at the end.</summary>
    bool TryRead();

    /// <summary>Field <paramref name="index"/> of the current record; valid until the next read.</summary>
    ReadOnlySpan<byte> Field(int index);

    /// <summary>Field <paramref name="index"/> of the current record as a string.</summary>
    string GetString(int index);
}

/// <summary>Reads several files as one table: the files' records in order, each file's header the same as the first's.</summary>
public sealed class RecordChain : IRecordReader
{
    private readonly IReadOnlyList<(string Name, Func<IRecordReader> Open)> _files;
    private IRecordReader _current;
    private int _index;
    private long _before;

    /// <summary>Chains <paramref name="files"/> (a name for messages, and how to open it), opening each when reading reaches it.</summary>
    public RecordChain(IReadOnlyList<(string Name, Func<IRecordReader> Open)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0)
        {
            throw CairnException.Invalid("There are no files to read.");
        }

        _files = files;
        _current = Open(0);
        Header = _current.Header;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Header { get; }

    /// <inheritdoc />
    public long RecordCount => _before + _current.RecordCount;

    /// <inheritdoc />
    public bool TryRead()
    {
        while (!_current.TryRead())
        {
            if (_index + 1 >= _files.Count)
            {
                return false;
            }

            _before += _current.RecordCount;
            _current.Dispose();
            _current = Open(++_index);
            if (!_current.Header.SequenceEqual(Header))
            {
                throw CairnException.Invalid(
                    $"'{_files[_index].Name}' has the columns {string.Join(", ", _current.Header)}; the first file, '{_files[0].Name}', has {string.Join(", ", Header)}. Every file of a folder must have the same header.");
            }
        }

        return true;
    }

    /// <inheritdoc />
    public ReadOnlySpan<byte> Field(int index) => _current.Field(index);

    /// <inheritdoc />
    public string GetString(int index) => _current.GetString(index);

    /// <inheritdoc />
    public void Dispose() => _current.Dispose();

    private IRecordReader Open(int index)
    {
        try
        {
            return _files[index].Open();
        }
        catch (CairnException e)
        {
            throw new CairnException(e.Code, $"{_files[index].Name}: {e.Message}", e);
        }
    }
}

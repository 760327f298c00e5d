using Cairn.Core.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cairn.Adapters.MLNet;

/// <summary>Exposes a Cairn <see cref="Table"/> (plus an optional label) to ML.NET without copying it.</summary>
internal sealed class TableDataView : IDataView
{
    private readonly Func<int, object>[] _columns;
    private readonly int _rowCount;

    private TableDataView(DataViewSchema schema, Func<int, object>[] columns, int rowCount)
    {
        Schema = schema;
        _columns = columns;
        _rowCount = rowCount;
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    /// <summary>A view of the <paramref name="features"/> columns; with a label when <paramref name="label"/> is given.</summary>
    public static TableDataView Create(Table table, IReadOnlyList<string> features, LabelColumn? label = null)
    {
        var builder = new DataViewSchema.Builder();
        var getters = new List<Func<int, object>>();
        foreach (var feature in features)
        {
            switch (table[feature])
            {
                case NumericColumn numeric:
                    builder.AddColumn(feature, NumberDataViewType.Single);
                    getters.Add(_ => numeric.Values);
                    break;
                case StringColumn text:
                    builder.AddColumn(feature, TextDataViewType.Instance);
                    getters.Add(_ => text.Values);
                    break;
            }
        }

        if (label is not null)
        {
            builder.AddColumn(label.Name, label.Type);
            getters.Add(_ => label.Values);
        }

        return new TableDataView(builder.ToSchema(), [.. getters], table.RowCount);
    }

    public long? GetRowCount() => _rowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    /// <summary>The label as ML.NET wants it: bool (binary), a 1-based key (multiclass) or float (regression).</summary>
    public sealed record LabelColumn(string Name, DataViewType Type, Array Values);

    private sealed class Cursor(TableDataView view, IEnumerable<DataViewSchema.Column> columnsNeeded) : DataViewRowCursor
    {
        private readonly HashSet<int> _active = [.. columnsNeeded.Select(c => c.Index)];
        private long _position = -1;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext() => ++_position < view._rowCount;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var values = view._columns[column.Index](0);
            ValueGetter<TValue> getter = values switch
            {
                float[] floats => (ValueGetter<TValue>)(Delegate)new ValueGetter<float>((ref float v) => v = floats[_position]),
                string?[] strings => (ValueGetter<TValue>)(Delegate)new ValueGetter<ReadOnlyMemory<char>>(
                    (ref ReadOnlyMemory<char> v) => v = (strings[_position] ?? string.Empty).AsMemory()),
                bool[] flags => (ValueGetter<TValue>)(Delegate)new ValueGetter<bool>((ref bool v) => v = flags[_position]),
                uint[] keys => (ValueGetter<TValue>)(Delegate)new ValueGetter<uint>((ref uint v) => v = keys[_position]),
                _ => throw new InvalidOperationException($"Column '{column.Name}' holds {values.GetType().Name}, which the view cannot read."),
            };
            return getter;
        }
    }
}

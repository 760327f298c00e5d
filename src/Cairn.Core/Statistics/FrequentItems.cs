using System.Text;

namespace Cairn.Core.Statistics;

/// <summary>
/// Counts values exactly while there are at most twice <see cref="Capacity"/> distinct ones; past that it keeps the
/// <see cref="Capacity"/> most frequent (Misra–Gries, mergeable): every kept count is low by at most <see cref="MaxError"/>, and a value whose true
/// count exceeds it is never dropped. Category counts for drift tests come from here, exact for the usual handful of levels.
/// </summary>
public sealed class FrequentItems<T>
    where T : notnull
{
    /// <summary>The default number of values kept.</summary>
    public const int DefaultCapacity = 1024;

    private readonly Dictionary<T, long> _counts;

    /// <summary>An empty counter.</summary>
    public FrequentItems(int capacity = DefaultCapacity, IEqualityComparer<T>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _counts = new Dictionary<T, long>(comparer);
    }

    /// <summary>How many distinct values are kept.</summary>
    public int Capacity { get; }

    /// <summary>How much any kept count may fall short of the truth; 0 while the counts are exact.</summary>
    public long MaxError { get; private set; }

    /// <summary>Whether every count is exact (no value was ever dropped).</summary>
    public bool IsExact => MaxError == 0;

    /// <summary>The total of all values added.</summary>
    public long Total { get; private set; }

    /// <summary>The kept values and counts.</summary>
    public IReadOnlyDictionary<T, long> Counts => _counts;

    /// <summary>Counts one occurrence of <paramref name="value"/>.</summary>
    public void Add(T value, long count = 1)
    {
        Total += count;
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, value, out _);
        slot += count;
        if (_counts.Count > 2 * Capacity)
        {
            Purge();
        }
    }

    /// <summary>Counts one occurrence of a UTF-8 value in a counter of strings (made with an ordinal comparer), making a string only for a new value.</summary>
    public void AddText(ReadOnlySpan<byte> utf8)
    {
        if (_counts is not Dictionary<string, long> strings || !strings.TryGetAlternateLookup<ReadOnlySpan<char>>(out var lookup))
        {
            throw new InvalidOperationException("AddText needs a counter of strings with an ordinal comparer.");
        }

        var buffer = utf8.Length <= 256 ? stackalloc char[256] : new char[Encoding.UTF8.GetMaxCharCount(utf8.Length)];
        var chars = buffer[..Encoding.UTF8.GetChars(utf8, buffer)];
        Total++;
        if (lookup.TryGetValue(chars, out var count))
        {
            lookup[chars] = count + 1;
            return;
        }

        strings.Add(new string(chars), 1);
        if (_counts.Count > 2 * Capacity)
        {
            Purge();
        }
    }

    /// <summary>Adds everything <paramref name="other"/> counted.</summary>
    public void Merge(FrequentItems<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (value, count) in other._counts)
        {
            ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, value, out _);
            slot += count;
        }

        Total += other.Total;
        MaxError += other.MaxError;
        if (_counts.Count > 2 * Capacity)
        {
            Purge();
        }
    }

    /// <summary>The <paramref name="n"/> most frequent values, most frequent first (ties in value order).</summary>
    public IReadOnlyList<KeyValuePair<T, long>> Top(int n) =>
        [.. _counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(n)];

    /// <summary>Restores a counter from stored counts.</summary>
    public static FrequentItems<T> FromCounts(IEnumerable<KeyValuePair<T, long>> counts, long total, long maxError,
        int capacity = DefaultCapacity, IEqualityComparer<T>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var items = new FrequentItems<T>(capacity, comparer);
        foreach (var (value, count) in counts)
        {
            items._counts[value] = count;
        }

        items.Total = total;
        items.MaxError = maxError;
        return items;
    }

    // Keeps the Capacity largest counts, lowering every count by the next largest (Misra–Gries with batched decrements).
    private void Purge()
    {
        var counts = _counts.Values.ToArray();
        Array.Sort(counts);
        var cut = counts[counts.Length - Capacity - 1];
        foreach (var key in _counts.Keys.ToArray())
        {
            var lowered = _counts[key] - cut;
            if (lowered <= 0)
            {
                _counts.Remove(key);
            }
            else
            {
                _counts[key] = lowered;
            }
        }

        MaxError += cut;
    }
}

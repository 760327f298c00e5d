namespace Cairn.Core.Statistics;

/// <summary>
/// A mergeable quantile sketch (KLL: Karnin, Lang and Liberty, 2016). It keeps a few hundred values in levels, where a
/// value at level h stands for 2^h of the input; a full level is sorted and every other value moves up. With k = 200 the
/// rank of any value is off by about 1.7% of the count at most, with 99% confidence, and merging two sketches gives
/// the sketch of the combined input with the same bound. Compaction is driven by a seeded generator, so sketching the
/// same values in the same order always gives the same sketch.
/// </summary>
public sealed class KllSketch
{
    /// <summary>The default size parameter.</summary>
    public const int DefaultK = 200;

    /// <summary>The bound on normalized rank error for <see cref="DefaultK"/> (99% confidence, as Apache DataSketches states it).</summary>
    public const double RankError = 0.0165;

    private const double Shrink = 2.0 / 3.0;

    private readonly List<List<double>> _levels = [];
    private int[] _capacities = [];
    private ulong _random;
    private int _capacityTotal;
    private int _size;

    /// <summary>An empty sketch.</summary>
    public KllSketch(int k = DefaultK)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 8);
        K = k;
        _random = 0x9E3779B97F4A7C15UL ^ (ulong)k;
        Grow();
    }

    /// <summary>The size parameter.</summary>
    public int K { get; }

    /// <summary>How many values were added.</summary>
    public long Count { get; private set; }

    /// <summary>The smallest value added; NaN when empty.</summary>
    public double Min { get; private set; } = double.NaN;

    /// <summary>The largest value added; NaN when empty.</summary>
    public double Max { get; private set; } = double.NaN;

    /// <summary>Adds a value (NaN is ignored).</summary>
    public void Add(double value)
    {
        if (double.IsNaN(value))
        {
            return;
        }

        Min = Count == 0 || value < Min ? value : Min;
        Max = Count == 0 || value > Max ? value : Max;
        Count++;
        _levels[0].Add(value);
        if (++_size >= _capacityTotal)
        {
            Compress();
        }
    }

    /// <summary>Adds everything <paramref name="other"/> summarizes.</summary>
    public void Merge(KllSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count == 0)
        {
            return;
        }

        while (_levels.Count < other._levels.Count)
        {
            Grow();
        }

        for (var h = 0; h < other._levels.Count; h++)
        {
            _levels[h].AddRange(other._levels[h]);
        }

        Min = Count == 0 ? other.Min : Math.Min(Min, other.Min);
        Max = Count == 0 ? other.Max : Math.Max(Max, other.Max);
        Count += other.Count;
        _size = _levels.Sum(l => l.Count);
        while (_size >= _capacityTotal)
        {
            Compress();
        }
    }

    /// <summary>The fraction of values less than or equal to <paramref name="value"/>.</summary>
    public double Cdf(double value)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        long weight = 0;
        for (var h = 0; h < _levels.Count; h++)
        {
            foreach (var item in _levels[h])
            {
                weight += item <= value ? 1L << h : 0;
            }
        }

        return (double)weight / Count;
    }

    /// <summary>The value at rank <paramref name="q"/> (0 is the minimum, 1 the maximum).</summary>
    public double Quantile(double q)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(q, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(q, 1);
        if (Count == 0)
        {
            return double.NaN;
        }

        if (q == 0)
        {
            return Min;
        }

        var sorted = WeightedItems();
        var target = q * Count;
        long cumulative = 0;
        foreach (var (value, weight) in sorted)
        {
            cumulative += weight;
            if (cumulative >= target)
            {
                return value;
            }
        }

        return Max;
    }

    /// <summary>The retained values with their weights, sorted by value: the sketch's picture of the distribution.</summary>
    public IReadOnlyList<(double Value, long Weight)> WeightedItems()
    {
        var items = new List<(double Value, long Weight)>(_size);
        for (var h = 0; h < _levels.Count; h++)
        {
            items.AddRange(_levels[h].Select(v => (v, 1L << h)));
        }

        items.Sort((a, b) => a.Value.CompareTo(b.Value));
        return items;
    }

    /// <summary>The sketch's state, for storage.</summary>
    public KllState ToState() => new(K, Count, Min, Max, [.. _levels.Select(l => l.ToArray())]);

    /// <summary>A sketch from stored state.</summary>
    public static KllSketch FromState(KllState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var sketch = new KllSketch(state.K);
        while (sketch._levels.Count < state.Levels.Count)
        {
            sketch.Grow();
        }

        long weight = 0;
        for (var h = 0; h < state.Levels.Count; h++)
        {
            sketch._levels[h].AddRange(state.Levels[h]);
            weight += (long)state.Levels[h].Length << h;
        }

        // Compaction keeps weight exactly: the retained weights add up to the count.
        if (weight != state.Count || state.Levels.Any(l => l.Any(double.IsNaN)))
        {
            throw new CairnException(ErrorCode.Corrupt, "A stored quantile sketch is not consistent with its count.");
        }

        sketch.Count = state.Count;
        sketch.Min = state.Min;
        sketch.Max = state.Max;
        sketch._size = sketch._levels.Sum(l => l.Count);
        return sketch;
    }

    // Lower levels hold fewer values: capacity shrinks by 2/3 per level below the top, to at least 2.
    private void Grow()
    {
        _levels.Add([]);
        _capacities = [.. Enumerable.Range(0, _levels.Count).Select(h => Math.Max(2, (int)Math.Ceiling(Math.Pow(Shrink, _levels.Count - h - 1) * K)))];
        _capacityTotal = _capacities.Sum();
    }

    private void Compress()
    {
        for (var h = 0; h < _levels.Count; h++)
        {
            var level = _levels[h];
            if (level.Count < _capacities[h])
            {
                continue;
            }

            if (h + 1 >= _levels.Count)
            {
                Grow();
            }

            // Sort, keep the odd or even positions (by a coin flip) one level up, and leave an odd one out behind.
            level.Sort();
            var keepOdd = NextBit();
            var pairs = level.Count / 2;
            var up = _levels[h + 1];
            for (var i = 0; i < pairs; i++)
            {
                up.Add(level[(2 * i) + (keepOdd ? 1 : 0)]);
            }

            var leftover = level.Count % 2 == 1 ? level[^1] : double.NaN;
            level.Clear();
            if (!double.IsNaN(leftover))
            {
                level.Add(leftover);
            }

            _size -= pairs;
            if (_size < _capacityTotal)
            {
                break;
            }
        }
    }

    private bool NextBit()
    {
        // xorshift64*: reproducible and cheap.
        _random ^= _random >> 12;
        _random ^= _random << 25;
        _random ^= _random >> 27;
        return ((_random * 0x2545F4914F6CDD1DUL) >> 63) == 1;
    }
}

/// <summary>The stored form of a <see cref="KllSketch"/>.</summary>
/// <param name="K">The size parameter.</param>
/// <param name="Count">How many values it summarizes.</param>
/// <param name="Min">The smallest value.</param>
/// <param name="Max">The largest value.</param>
/// <param name="Levels">The retained values per level; a value at level h weighs 2^h.</param>
public sealed record KllState(int K, long Count, double Min, double Max, IReadOnlyList<double[]> Levels);
